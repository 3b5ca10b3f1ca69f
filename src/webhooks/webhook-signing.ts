import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export const generateWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * The three Standard Webhooks headers. With several secrets (a rotation's grace period) each signs, and the
 * signatures go space-separated in one header: a receiver holding either secret verifies.
 */
export function signedHeaders(input: {
  secrets: readonly string[];
  messageId: string;
  at: Date;
  body: string;
}): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const signatures = input.secrets.map((secret) =>
    new Webhook(secret).sign(input.messageId, input.at, input.body),
  );
  return {
    'webhook-id': input.messageId,
    'webhook-timestamp': String(Math.floor(input.at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
