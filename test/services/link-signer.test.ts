import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/services/errors.js';
import { createLinkSigner, type LinkClaims } from '../../src/services/link-signer.js';
import { kekFromMasterKey, type Keyring } from '../../src/storage/master-key.js';

const keyring = (): Keyring => ({ current: kekFromMasterKey(randomBytes(32)), previous: [] });
const at = new Date('2026-01-01T00:00:00Z');
const claims: LinkClaims = {
  purpose: 'media-content',
  orgId: randomUUID(),
  objectId: randomUUID(),
  expiresAt: at.getTime() / 1000 + 300,
  shareId: null,
};

function codeOf(run: () => void): string | null {
  try {
    run();
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(403);
    return (error as AppError).code;
  }
}

describe('link signer', () => {
  const ring = keyring();
  let clock = at;
  const signer = createLinkSigner({ keyring: ring, now: () => clock });
  const sig = signer.sign(claims);

  it('accepts its own signature until the expiry, then answers link-expired', () => {
    expect(sig).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(codeOf(() => signer.verify(claims, sig))).toBeNull();
    clock = new Date(claims.expiresAt * 1000 - 1);
    expect(codeOf(() => signer.verify(claims, sig))).toBeNull();
    clock = new Date(claims.expiresAt * 1000);
    expect(codeOf(() => signer.verify(claims, sig))).toBe('link-expired');
    clock = at;
  });

  it.each([
    ['another purpose', { purpose: 'artifact-content' as const }],
    ['another organisation', { orgId: randomUUID() }],
    ['another object', { objectId: randomUUID() }],
    ['a later expiry', { expiresAt: claims.expiresAt + 3600 }],
    ['a share id added', { shareId: randomUUID() }],
  ])('refuses the signature for %s (link-invalid)', (_, change) => {
    expect(codeOf(() => signer.verify({ ...claims, ...change }, sig))).toBe('link-invalid');
  });

  it('refuses an altered, truncated or malformed signature', () => {
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    for (const bad of [flipped, sig.slice(0, 42), `${sig}A`, '', '!'.repeat(43)]) {
      expect(codeOf(() => signer.verify(claims, bad))).toBe('link-invalid');
    }
  });

  it('checks the MAC before the expiry: an expired forgery is link-invalid, not link-expired', () => {
    clock = new Date(claims.expiresAt * 1000 + 1000);
    expect(codeOf(() => signer.verify({ ...claims, objectId: randomUUID() }, sig))).toBe('link-invalid');
    clock = at;
  });

  it('keeps fields apart: moving a separator between object id and organisation breaks the MAC', () => {
    const joined = { ...claims, orgId: 'a', objectId: 'b/c' };
    const moved = { ...claims, orgId: 'a/b', objectId: 'c' };
    expect(codeOf(() => signer.verify(moved, signer.sign(joined)))).toBe('link-invalid');
  });

  it('a link signed under another master key does not verify; one under a previous key still does', () => {
    const other = createLinkSigner({ keyring: keyring(), now: () => at });
    expect(codeOf(() => signer.verify(claims, other.sign(claims)))).toBe('link-invalid');
    const rotated = createLinkSigner({
      keyring: { current: kekFromMasterKey(randomBytes(32), 2), previous: [ring.current] },
      now: () => at,
    });
    expect(codeOf(() => rotated.verify(claims, sig))).toBeNull();
  });
});
