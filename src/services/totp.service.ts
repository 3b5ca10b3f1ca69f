import { createHash, randomInt } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import type { TotpRepository } from '../repositories/totp.repository.js';
import type { Keyring } from '../storage/master-key.js';
import { openSealedBuffer, sealBuffer } from '../storage/sealed-buffer.js';
import { AppError, conflict } from './errors.js';

export const totpIssuer = 'SecureAI Guardian';
const periodSeconds = 30;
export const recoveryCodeCount = 10;
// Crockford's base32 (no i, l, o, u): 16 symbols carry 80 bits.
const recoveryAlphabet = '0123456789abcdefghjkmnpqrstvwxyz';
const recoveryCodeLength = 16;
const totpCodePattern = /^\d{6}$/;

export interface TotpEnrolment {
  /** Base32, for typing into an authenticator by hand; returned this once. */
  secret: string;
  otpauthUri: string;
}

export interface TotpStatus {
  enabled: boolean;
  pendingConfirmation: boolean;
  recoveryCodesLeft: number;
}

/** One form for `ABCD-efgh jkmn-PQRS` and `abcdefghjkmnpqrs`; look-alikes read as Crockford says (o→0, i/l→1). */
export function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
}

/**
 * SHA-256, not argon2: a recovery code carries 80 random bits, far beyond offline guessing, and a fast hash
 * lets the lookup be one indexed query instead of ten slow verifications per attempt.
 */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256')
    .update('secureai-guardian/recovery-code/v1\0')
    .update(normaliseRecoveryCode(code))
    .digest('hex');
}

function newRecoveryCode(): string {
  const symbols = Array.from(
    { length: recoveryCodeLength },
    () => recoveryAlphabet[randomInt(recoveryAlphabet.length)],
  );
  return symbols.join('').replace(/(.{4})(?=.)/g, '$1-');
}

/** The object key a user's TOTP secret is sealed under (binds the sealed bytes to the user). */
export const totpSecretObjectKey = (userId: string) => `user-totp/${userId}`;

/**
 * TOTP (RFC 6238, SHA-1, 6 digits, 30 s) with a 160-bit secret sealed by the master keyring, a window of one
 * step either side, and replay protection: a code's time step must be later than the last one accepted.
 */
export function createTotpService(deps: { totp: TotpRepository; keyring: Keyring; now: () => Date }) {
  const { totp, keyring, now } = deps;
  const objectKey = totpSecretObjectKey;

  async function secretOf(sealed: Buffer, userId: string): Promise<string> {
    return (await openSealedBuffer(sealed, { objectKey: objectKey(userId), keyring })).toString('utf8');
  }

  /** The time step the code belongs to (current ± 1), or null when it matches none. */
  async function matchingStep(
    secret: string,
    code: string,
    afterStep: number | null,
  ): Promise<number | null> {
    if (!totpCodePattern.test(code)) return null;
    const result = await verify({
      secret,
      token: code,
      epoch: Math.floor(now().getTime() / 1000),
      period: periodSeconds,
      epochTolerance: periodSeconds,
      ...(afterStep === null ? {} : { afterTimeStep: afterStep }),
    });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  }

  function newRecoveryCodes(): { codes: string[]; hashes: string[] } {
    const codes = Array.from({ length: recoveryCodeCount }, newRecoveryCode);
    return { codes, hashes: codes.map(hashRecoveryCode) };
  }

  return {
    /** A new secret awaiting confirmation (replacing an unconfirmed one); 409 when TOTP is already on. */
    async enrol(user: { id: string; email: string }): Promise<TotpEnrolment> {
      const secret = generateSecret({ length: 20 });
      const sealed = await sealBuffer(Buffer.from(secret, 'utf8'), {
        objectKey: objectKey(user.id),
        keyring,
      });
      if (!(await totp.putUnconfirmed(user.id, sealed))) {
        throw new AppError(
          409,
          '2fa-already-enabled',
          'Conflict',
          'two-factor authentication is already on; disable it first',
        );
      }
      return {
        secret,
        otpauthUri: generateURI({ issuer: totpIssuer, label: user.email, secret, period: periodSeconds }),
      };
    },

    /** Confirms the pending secret with a code from the app; returns the recovery codes, shown this once. */
    async confirm(userId: string, code: string): Promise<string[] | null> {
      const pending = await totp.find(userId);
      if (!pending || pending.confirmed_at) {
        throw pending
          ? new AppError(409, '2fa-already-enabled', 'Conflict', 'two-factor authentication is already on')
          : conflict('no enrolment is pending; start with POST /api/v1/auth/2fa/enrol');
      }
      const step = await matchingStep(
        await secretOf(pending.secret_sealed, userId),
        code,
        pending.last_used_step,
      );
      if (step === null) return null;
      const { codes, hashes } = newRecoveryCodes();
      return (await totp.confirm(userId, { step, at: now(), recoveryCodeHashes: hashes })) ? codes : null;
    },

    /** True once per time step: the code is consumed. False when wrong, replayed, or TOTP is off. */
    async verifyCode(userId: string, code: string): Promise<boolean> {
      const found = await totp.find(userId);
      if (!found?.confirmed_at) return false;
      const step = await matchingStep(
        await secretOf(found.secret_sealed, userId),
        code,
        found.last_used_step,
      );
      return step !== null && (await totp.consumeStep(userId, step));
    },

    /** True once per code: the code is consumed. */
    useRecoveryCode: (userId: string, code: string) =>
      totp.useRecoveryCode(userId, hashRecoveryCode(code), now()),

    isEnabled: (userId: string) => totp.isConfirmed(userId),

    async status(userId: string): Promise<TotpStatus> {
      const found = await totp.find(userId);
      return {
        enabled: Boolean(found?.confirmed_at),
        pendingConfirmation: Boolean(found && !found.confirmed_at),
        recoveryCodesLeft: found?.confirmed_at ? await totp.countUnusedRecoveryCodes(userId) : 0,
      };
    },

    /** Replaces every recovery code; 409 unless TOTP is on. */
    async regenerateRecoveryCodes(userId: string): Promise<string[]> {
      if (!(await totp.isConfirmed(userId))) throw conflict('two-factor authentication is off');
      const { codes, hashes } = newRecoveryCodes();
      await totp.replaceRecoveryCodes(userId, hashes, now());
      return codes;
    },

    /** Removes the secret and the recovery codes; false when there were none. */
    disable: (userId: string) => totp.remove(userId),
  };
}

export type TotpService = ReturnType<typeof createTotpService>;
