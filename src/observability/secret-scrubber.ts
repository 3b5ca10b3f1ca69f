import { configFields, type Config, type ConfigName } from '../config/config.schema.js';
import { redactUrl } from '../http/log-redaction.js';

/** Replaces secrets in text bound for a tracing or error backend with `[redacted]`. */
export type SecretScrubber = (text: string) => string;

const redacted = '[redacted]';
// Shorter configured values would redact ordinary words; no secret the platform accepts is this short.
const minimumSecretLength = 6;
// In a query string or loose in a message (`... token=abc`), as long as the name stands alone.
const secretParameters =
  /(\b(?:token|sig|signature|api_key|apikey|access_token|key|code|password|secret)=)[^&#\s"',;]*/gi;
const bearerCredential = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const urlUserinfo = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]*:[^\s/@]*@/gi;
// API keys (`sag_` + 43 base64url characters) and any other bare 32-byte base64url token (sessions, CSRF, invites).
const apiKey = /\bsag_[A-Za-z0-9_-]{20,}/g;
const bareToken = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g;

/**
 * The log redaction (signed-link signatures, share tokens) plus what an error message may carry: query
 * parameters named like credentials, bearer/basic credentials, URL userinfo, API keys and bare tokens, and the
 * value of every setting the configuration schema marks secret (and the password inside a URL-shaped one).
 */
export function createSecretScrubber(
  config: Partial<Pick<Config, ConfigName>>,
  extraSecrets: readonly string[] = [],
): SecretScrubber {
  const values = new Set<string>();
  for (const [name, field] of Object.entries(configFields) as [ConfigName, { secret?: boolean }][]) {
    const value = config[name];
    if (!field.secret || typeof value !== 'string') continue;
    for (const part of secretParts(value)) values.add(part);
  }
  for (const value of extraSecrets) values.add(value);
  // Longest first, so a password inside a URL never leaves the rest of the URL behind.
  const literals = [...values].filter((value) => value.length >= minimumSecretLength);
  literals.sort((a, b) => b.length - a.length);
  return (text) => {
    let scrubbed = text;
    for (const literal of literals) scrubbed = scrubbed.split(literal).join(redacted);
    return redactUrl(scrubbed)
      .replace(secretParameters, `$1${redacted}`)
      .replace(bearerCredential, `$1 ${redacted}`)
      .replace(urlUserinfo, `$1${redacted}@`)
      .replace(apiKey, redacted)
      .replace(bareToken, redacted);
  };
}

/** The value, each of its list entries, the value of a `key=value` entry and the password of a URL (raw and decoded). */
function secretParts(value: string): string[] {
  // List entries (MASTER_KEY_PREVIOUS, headers) are long; short ones are a PEM's words (`PRIVATE`), not secrets.
  const parts = [value, ...value.split(/[\s,]+/).filter((part) => part.length >= 16 || part.includes('='))];
  for (const part of [...parts]) {
    const at = part.indexOf('=');
    if (at > 0 && !part.includes('://')) parts.push(part.slice(at + 1), safeDecode(part.slice(at + 1)));
    try {
      const url = new URL(part);
      if (url.password) parts.push(url.password, safeDecode(url.password));
    } catch {
      // Not a URL: the value itself is the secret.
    }
  }
  return parts;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Every string inside a JSON-like value scrubbed, dropping nothing else (for whole Sentry events). */
export function scrubDeep<T>(value: T, scrub: SecretScrubber, depth = 0): T {
  if (depth > 32) return value;
  if (typeof value === 'string') return scrub(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => scrubDeep(item, scrub, depth + 1)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value as Record<string, unknown>);
    return Object.fromEntries(entries.map(([key, item]) => [key, scrubDeep(item, scrub, depth + 1)])) as T;
  }
  return value;
}
