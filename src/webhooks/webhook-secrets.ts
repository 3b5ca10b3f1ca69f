import type { WebhookEndpoint } from '../db/schema.js';
import type { Keyring } from '../storage/master-key.js';
import { openSealedBuffer, sealBuffer } from '../storage/sealed-buffer.js';

export type SecretSlot = 'current' | 'previous';

/** The object key a secret is sealed under: binds the sealed bytes to their endpoint and slot. */
export const webhookSecretObjectKey = (endpointId: string, slot: SecretSlot) =>
  `webhook-endpoint:${endpointId}:${slot}`;

export const sealWebhookSecret = (secret: string, endpointId: string, slot: SecretSlot, keyring: Keyring) =>
  sealBuffer(Buffer.from(secret, 'utf8'), { objectKey: webhookSecretObjectKey(endpointId, slot), keyring });

export async function openWebhookSecret(
  sealed: Uint8Array,
  endpointId: string,
  slot: SecretSlot,
  keyring: Keyring,
): Promise<string> {
  const opened = await openSealedBuffer(Buffer.from(sealed), {
    objectKey: webhookSecretObjectKey(endpointId, slot),
    keyring,
  });
  return opened.toString('utf8');
}

/** The secrets that sign now: the current one, and the previous one until its grace period ends. */
export async function signingSecrets(
  endpoint: WebhookEndpoint,
  keyring: Keyring,
  now: Date,
): Promise<string[]> {
  const secrets = [await openWebhookSecret(endpoint.secret_sealed, endpoint.id, 'current', keyring)];
  const expires = endpoint.previous_secret_expires_at;
  if (endpoint.previous_secret_sealed && expires && expires.getTime() > now.getTime())
    secrets.push(await openWebhookSecret(endpoint.previous_secret_sealed, endpoint.id, 'previous', keyring));
  return secrets;
}
