/** Licence rules of `npm run deps:check`: SPDX expressions from the lock file against security/dependency-policy.json. */
export interface LicencePolicy {
  allowedLicences: string[];
  aliases: Record<string, string>;
  reviewed: Record<string, { licence: string; reason: string }>;
}

/**
 * True when an SPDX expression is acceptable: with OR one allowed side suffices, with AND every part must be
 * allowed. Parentheses are handled for the flat forms the registry uses (`(MIT OR CC0-1.0)`, `(MIT AND Zlib)`).
 */
export function licenceAllowed(expression: string, policy: LicencePolicy): boolean {
  const allowed = new Set(policy.allowedLicences);
  const normalised = (policy.aliases[expression] ?? expression).replace(/^\((.*)\)$/, '$1').trim();
  return normalised.split(/\s+OR\s+/).some((alternative) =>
    alternative
      .replace(/^\((.*)\)$/, '$1')
      .split(/\s+AND\s+/)
      .every((part) => allowed.has(policy.aliases[part.trim()] ?? part.trim())),
  );
}
