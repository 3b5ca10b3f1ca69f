import { z } from 'zod';

/**
 * Base64 in its one canonical spelling: decoders ignore the spare low bits before `=` padding, so without this
 * a changed last character would decode to the same bytes and a one-byte edit of a bundle would go unseen.
 */
export const canonicalBase64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64')
  .refine(
    (value) => Buffer.from(value, 'base64').toString('base64') === value,
    'base64 not in canonical form',
  );
