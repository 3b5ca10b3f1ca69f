import type { Advisories, LockedPackage } from './check-lock.js';

const concurrency = 8;
const timeoutMs = 20_000;

/** Deprecation messages of the locked versions, from the registry's package metadata (one request per name). */
export async function fetchDeprecations(
  registry: string,
  packages: LockedPackage[],
): Promise<{ messages: Map<string, string>; failed: string[] }> {
  const names = [...new Set(packages.map((pkg) => pkg.name))];
  const messages = new Map<string, string>();
  const failed: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      try {
        const response = await fetch(`${registry}${name.replace('/', '%2f')}`, {
          headers: { accept: 'application/vnd.npm.install-v1+json' },
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!response.ok) throw new Error(String(response.status));
        const body = (await response.json()) as { versions?: Record<string, { deprecated?: string }> };
        for (const [version, meta] of Object.entries(body.versions ?? {}))
          if (meta.deprecated) messages.set(`${name}@${version}`, meta.deprecated);
      } catch {
        failed.push(name);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { messages, failed };
}

/** The npm bulk advisory endpoint (what `npm audit` asks), when the registry answers it. */
export async function fetchAdvisories(
  registry: string,
  packages: LockedPackage[],
): Promise<{ ok: true; advisories: Advisories } | { ok: false; reason: string }> {
  const request: Record<string, string[]> = {};
  for (const pkg of packages) (request[pkg.name] ??= []).push(pkg.version);
  try {
    const response = await fetch(`${registry}-/npm/v1/security/advisories/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return { ok: false, reason: `refused (HTTP ${response.status}); not checked` };
    return { ok: true, advisories: (await response.json()) as Advisories };
  } catch (error) {
    return { ok: false, reason: `unreachable (${(error as Error).message}); not checked` };
  }
}
