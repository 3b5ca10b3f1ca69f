import type { SealedTotpRepository } from '../repositories/sealed-totp.repository.js';
import type { Keyring } from '../storage/master-key.js';
import type { MasterKeyedObjects } from '../storage/master-keyed-objects.js';
import { HEADER_BYTES, kekOfHeader, rewrapHeader } from '../storage/segmented-aead.js';
import { totpSecretObjectKey } from './totp.service.js';

const pageSize = 500;

/** TOTP secrets in user_totp, sealed under the master key (the header inside the sealed value is re-wrapped). */
export function totpSecretObjects(deps: {
  totp: SealedTotpRepository;
  keyring: Keyring;
}): MasterKeyedObjects {
  const { totp, keyring } = deps;
  return {
    name: 'totp-secrets',
    async *keys() {
      let after: string | null = null;
      for (;;) {
        const page = await totp.listUserIds(after, pageSize);
        yield* page;
        if (page.length < pageSize) return;
        after = page.at(-1) ?? null;
      }
    },
    async kekOf(userId) {
      const sealed = await totp.findSealed(userId);
      return sealed ? kekOfHeader(sealed) : null;
    },
    async rewrap(userId) {
      const sealed = await totp.findSealed(userId);
      if (!sealed) return false;
      const header = rewrapHeader(sealed.subarray(0, HEADER_BYTES), {
        objectKey: totpSecretObjectKey(userId),
        keyring,
      });
      return totp.replaceSealed(userId, sealed, Buffer.concat([header, sealed.subarray(HEADER_BYTES)]));
    },
  };
}
