import { z } from 'zod';
import { roles } from '../db/schema.js';

// Bounded but generous: the password policy (8–256 characters) applies when a password is set, not here.
const password = z.string().min(1).max(1024);

export const loginBody = z.strictObject({ email: z.string().min(1).max(320), password });

export const signedInUserSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  role: z.enum(roles),
  orgId: z.uuid(),
});

export const loginResponse = z.object({
  user: signedInUserSchema,
  csrfToken: z.string().describe('send as X-CSRF-Token on every POST/PUT/PATCH/DELETE made with the cookie'),
  secondFactorRequired: z
    .boolean()
    .describe('true: this session only allows the second login step until a TOTP or recovery code is given'),
});

export const csrfResponse = z.object({ csrfToken: z.string() });

export const sessionStatusResponse = z.object({
  signedIn: z.boolean(),
  stage: z.enum(['second-factor', 'complete']).nullable().describe('null when not signed in'),
  csrfToken: z.string().nullable().describe('for X-CSRF-Token; null when not signed in'),
});

export const passwordChangeBody = z.strictObject({ currentPassword: password, newPassword: password });

export const meResponse = z.object({
  user: signedInUserSchema.extend({ createdAt: z.iso.datetime(), passwordChangedAt: z.iso.datetime() }),
  organisation: z.object({ id: z.uuid(), name: z.string(), requireAdmin2fa: z.boolean() }),
  twoFactor: z.object({
    enabled: z.boolean(),
    required: z.boolean().describe('the organisation requires 2FA of admins and this user is one'),
  }),
  session: z.object({ id: z.uuid(), stage: z.enum(['second-factor', 'complete']) }),
});

export const sessionListResponse = z.object({
  sessions: z.array(
    z.object({
      id: z.uuid(),
      createdAt: z.iso.datetime(),
      lastSeenAt: z.iso.datetime(),
      expiresAt: z.iso.datetime(),
      ip: z.string().nullable(),
      userAgent: z.string().nullable(),
      current: z.boolean(),
    }),
  ),
});

export const userSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  role: z.enum(roles),
  status: z.enum(['active', 'disabled']),
  orgId: z.uuid(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  passwordChangedAt: z.iso.datetime(),
});

export const userListResponse = z.object({ users: z.array(userSchema) });

export const userPatchBody = z
  .strictObject({ role: z.enum(roles).optional(), status: z.enum(['active', 'disabled']).optional() })
  .refine((body) => body.role !== undefined || body.status !== undefined, {
    message: 'give role, status or both',
  });
