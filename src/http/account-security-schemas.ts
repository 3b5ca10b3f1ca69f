import { z } from 'zod';
import { roles } from '../db/schema.js';

// Bounded but generous: the password policy (8–256 characters) applies when a password is set, not here.
const password = z.string().min(1).max(1024);
const totpCode = z
  .string()
  .regex(/^\d{6}$/)
  .describe('the 6-digit code the authenticator app shows now');
const recoveryCode = z
  .string()
  .min(16)
  .max(40)
  .describe('one of the recovery codes (dashes and case do not matter)');
// The service tells a malformed token (400 invalid-token) from a spent one (410).
const oneTimeToken = z.string().min(1).max(128).describe('the part of the mailed link after `#token=`');

export const secondFactorBody = z.union([
  z.strictObject({ code: totpCode }),
  z.strictObject({ recoveryCode }),
]);

/** Re-authentication: the password and a TOTP or recovery code. */
export const reauthenticationBody = z.union([
  z.strictObject({ password, code: totpCode }),
  z.strictObject({ password, recoveryCode }),
]);

export const enrolBody = z.strictObject({ password });

export const enrolResponse = z.object({
  otpauthUri: z.string().describe('otpauth://totp/… for a QR code; shown once'),
  secret: z.string().describe('the base32 secret, for typing in by hand; shown once'),
  period: z.literal(30),
  digits: z.literal(6),
  algorithm: z.literal('SHA1'),
});

export const confirmBody = z.strictObject({ code: totpCode });

export const recoveryCodesResponse = z.object({
  recoveryCodes: z
    .array(z.string())
    .describe('single-use codes for when the authenticator is lost; shown once'),
});

export const twoFactorStatusResponse = z.object({
  enabled: z.boolean(),
  pendingConfirmation: z.boolean(),
  recoveryCodesLeft: z.number().int().nonnegative(),
});

export const organisationPatchBody = z.strictObject({ requireAdmin2fa: z.boolean() });

export const organisationResponse = z.object({
  id: z.uuid(),
  name: z.string(),
  requireAdmin2fa: z.boolean(),
});

export const passwordResetBody = z.strictObject({ email: z.email().max(254) });

export const passwordResetAccepted = z.object({ message: z.string() });

export const passwordResetConfirmBody = z.strictObject({ token: oneTimeToken, newPassword: password });

export const inviteBody = z.strictObject({ email: z.email().max(254), role: z.enum(roles) });

export const inviteResponse = z.object({
  id: z.uuid(),
  email: z.string(),
  role: z.enum(roles),
  expiresAt: z.iso.datetime(),
  delivery: z
    .enum(['smtp', 'outbox'])
    .describe('`outbox`: no SMTP server is configured; `link` is the invitation to pass on'),
  link: z
    .string()
    .optional()
    .describe(
      'only with `delivery: outbox`, and only here: the single-use invitation link for the inviter to pass on (the outbox API shows it redacted)',
    ),
});

export const inviteAcceptBody = z.strictObject({ token: oneTimeToken, password });

export const outboxQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(50) });

export const outboxResponse = z.object({
  delivery: z.enum(['smtp', 'outbox']),
  messages: z.array(
    z.object({
      id: z.uuid(),
      to: z.string(),
      subject: z.string(),
      body: z
        .string()
        .describe(
          'the text with every one-time link token replaced by `[redacted]`: links are for the recipient alone (without SMTP the operator reads them on the host with `guardian outbox list`)',
        ),
      createdAt: z.iso.datetime(),
      sentAt: z.iso.datetime().nullable(),
      attempts: z.number().int().nonnegative(),
      lastError: z.string().nullable(),
    }),
  ),
});
