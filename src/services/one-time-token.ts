import { createHash, randomBytes } from 'node:crypto';
import type { OneTimeToken, OneTimeTokenPurpose } from '../db/schema.js';
import type { OneTimeTokenRepository } from '../repositories/one-time-token.repository.js';
import { AppError } from './errors.js';

/** Exactly what `newOneTimeToken` produces: 32 random bytes, base64url. */
export const oneTimeTokenPattern = /^[A-Za-z0-9_-]{43}$/;

/** SHA-256 is enough: 256 random bits cannot be guessed offline, so only a leaked table is at stake. */
export function hashOneTimeToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newOneTimeToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: hashOneTimeToken(token) };
}

export const invalidToken = () =>
  new AppError(
    400,
    'invalid-token',
    'Invalid token',
    'this link is not valid; check that it was copied whole',
  );
export const tokenGone = () =>
  new AppError(
    410,
    'token-expired',
    'Link expired or used',
    'this link has expired or was already used; ask for a new one',
  );

/** The live token row behind `token`, or a 400 (unknown) / 410 (used or expired) problem. */
export async function findRedeemableToken(
  tokens: OneTimeTokenRepository,
  purpose: OneTimeTokenPurpose,
  token: string,
  now: Date,
): Promise<OneTimeToken> {
  if (!oneTimeTokenPattern.test(token)) throw invalidToken();
  const found = await tokens.findByHash(purpose, hashOneTimeToken(token));
  if (!found) throw invalidToken();
  if (found.used_at !== null || found.expires_at.getTime() <= now.getTime()) throw tokenGone();
  return found;
}

/** `base/path#token=…`: a fragment never reaches a server log, a proxy, or a Referer header. */
export function tokenLink(publicUrl: string, path: string, token: string): string {
  return `${publicUrl}${path}#token=${token}`;
}
