import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Keyring } from '../storage/master-key.js';
import type { MasterKeyedObjects } from '../storage/master-keyed-objects.js';
import { HEADER_BYTES, kekOfHeader, rewrapHeader } from '../storage/segmented-aead.js';
import { webhookSecretObjectKey, type SecretSlot } from '../webhooks/webhook-secrets.js';

const pageSize = 500;
const columns = { current: 'secret_sealed', previous: 'previous_secret_sealed' } as const;

// Keys are `<endpoint id>:<slot>`: each endpoint holds a current secret and, during a rotation, a previous one.
const parseKey = (key: string) => {
  const [id, slot] = key.split(':') as [string, SecretSlot];
  return { id, slot, column: columns[slot] };
};

/** Webhook signing secrets in webhook_endpoints, sealed under the master key (re-wrapped like TOTP secrets). */
export function webhookSecretObjects(deps: { db: Kysely<Database>; keyring: Keyring }): MasterKeyedObjects {
  const { db, keyring } = deps;

  async function findSealed(key: string): Promise<Buffer | null> {
    const { id, column } = parseKey(key);
    const row = await db
      .selectFrom('webhook_endpoints')
      .select(column)
      .where('id', '=', id)
      .executeTakeFirst();
    const sealed = row?.[column];
    // PGlite returns bytea as a Uint8Array, pg as a Buffer.
    return sealed ? Buffer.from(sealed) : null;
  }

  return {
    name: 'webhook-secrets',
    async *keys() {
      let after: string | null = null;
      for (;;) {
        let query = db
          .selectFrom('webhook_endpoints')
          .select(['id', 'previous_secret_sealed'])
          .orderBy('id')
          .limit(pageSize);
        if (after !== null) query = query.where('id', '>', after);
        const page = await query.execute();
        for (const row of page) {
          yield `${row.id}:current`;
          if (row.previous_secret_sealed) yield `${row.id}:previous`;
        }
        if (page.length < pageSize) return;
        after = page.at(-1)?.id ?? null;
      }
    },
    async kekOf(key) {
      const sealed = await findSealed(key);
      return sealed ? kekOfHeader(sealed) : null;
    },
    async rewrap(key) {
      const sealed = await findSealed(key);
      if (!sealed) return false;
      const { id, slot, column } = parseKey(key);
      const header = rewrapHeader(sealed.subarray(0, HEADER_BYTES), {
        objectKey: webhookSecretObjectKey(id, slot),
        keyring,
      });
      // Compare-and-set: a rotation of the webhook secret meanwhile wins.
      const result = await db
        .updateTable('webhook_endpoints')
        .set({ [column]: Buffer.concat([header, sealed.subarray(HEADER_BYTES)]) })
        .where('id', '=', id)
        .where(column, '=', sealed)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}
