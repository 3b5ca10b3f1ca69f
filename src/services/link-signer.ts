import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Kek, Keyring } from '../storage/master-key.js';
import { AppError } from './errors.js';

/** What a signed link grants: one object of one organisation, for one purpose, until `expiresAt`. */
export type LinkPurpose = 'media-content' | 'artifact-content';

export interface LinkClaims {
  purpose: LinkPurpose;
  orgId: string;
  /** The media id, or `<analysisId>/<detector>/<name>` for an artifact. */
  objectId: string;
  /** Unix seconds. */
  expiresAt: number;
  /** Set when a report share issued the link: it works only while that share does. */
  shareId: string | null;
}

export interface LinkSigner {
  sign(claims: LinkClaims): string;
  /** Checks the MAC (constant time, under every key of the ring), then the expiry; throws 403 otherwise. */
  verify(claims: LinkClaims, signature: string): void;
}

const label = 'secureai-guardian/signed-links/v1';
const signaturePattern = /^[A-Za-z0-9_-]{43}$/;

export const linkInvalid = () =>
  new AppError(403, 'link-invalid', 'Link invalid', 'the link was altered or is not for this object');
export const linkExpired = () =>
  new AppError(403, 'link-expired', 'Link expired', 'the link has expired; ask for a new one');

/**
 * HMAC-SHA256 over the claims under a key derived (HKDF, own label) from each key-encryption key, so a new
 * master key needs no extra secret, the link key never wraps data keys, and links keep working while a
 * rotation leaves the old key in `previous`.
 */
export function createLinkSigner(deps: { keyring: Keyring; now: () => Date }): LinkSigner {
  const derived = new WeakMap<Kek, Buffer>();
  const keyOf = (kek: Kek) => {
    let key = derived.get(kek);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', kek.key, Buffer.alloc(0), label, 32));
      derived.set(kek, key);
    }
    return key;
  };
  const mac = (key: Buffer, claims: LinkClaims) =>
    createHmac('sha256', key).update(canonicalClaims(claims)).digest();

  return {
    sign: (claims) => mac(keyOf(deps.keyring.current), claims).toString('base64url'),
    verify(claims, signature) {
      if (!signaturePattern.test(signature)) throw linkInvalid();
      const presented = Buffer.from(signature, 'base64url');
      const keys = [deps.keyring.current, ...deps.keyring.previous].map(keyOf);
      // Every key is tried (no early exit), so the time taken says nothing about which one matched.
      let matched = false;
      for (const key of keys) matched = timingSafeEqual(mac(key, claims), presented) || matched;
      if (!matched) throw linkInvalid();
      if (deps.now().getTime() >= claims.expiresAt * 1000) throw linkExpired();
    },
  };
}

/** Length-prefixed fields: no value can shift into its neighbour (`a/b` + `c` never equals `a` + `b/c`). */
function canonicalClaims(claims: LinkClaims): Buffer {
  const fields = [
    'v1',
    claims.purpose,
    claims.orgId,
    claims.objectId,
    String(claims.expiresAt),
    claims.shareId ?? '',
  ];
  return Buffer.concat(
    fields.flatMap((field) => {
      const bytes = Buffer.from(field, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return [length, bytes];
    }),
  );
}
