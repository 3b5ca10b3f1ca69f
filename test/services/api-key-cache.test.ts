import { describe, expect, it } from 'vitest';
import type { ApiKeyRepository, UsableApiKey } from '../../src/repositories/api-key.repository.js';
import type { OrganisationRepository } from '../../src/repositories/organisation.repository.js';
import { createApiKeyCache } from '../../src/services/api-key-cache.js';
import { createApiKeyService, hashApiKey } from '../../src/services/api-key.service.js';

const token = `sag_${'a'.repeat(43)}`;
const otherToken = `sag_${'b'.repeat(43)}`;

/** One key in a fake table the test can revoke behind the service's back, as another server would. */
function setUp(options: { ttlSeconds: number; expiresAt?: Date | null; maxEntries?: number }) {
  let clock = Date.parse('2026-12-05T10:00:00Z');
  const rows = new Map<string, UsableApiKey>();
  const lookups: string[] = [];
  const touches: number[] = [];
  const row = (id: string, secret: string): UsableApiKey => ({
    id,
    org_id: 'org-1',
    org_name: 'Newsroom',
    name: id,
    prefix: secret.slice(0, 12),
    key_hash: hashApiKey(secret),
    role: 'viewer',
    created_at: new Date(clock),
    last_used_at: null,
    expires_at: options.expiresAt ?? null,
    revoked_at: null,
  });
  rows.set('key-1', row('key-1', token));
  rows.set('key-2', row('key-2', otherToken));
  const apiKeys = {
    async findUsableByHash(keyHash: string, now: Date) {
      lookups.push(keyHash);
      const found = [...rows.values()].find((key) => key.key_hash === keyHash);
      if (!found || found.revoked_at || (found.expires_at && found.expires_at <= now)) return null;
      return found;
    },
    async touchLastUsed(_id: string, at: Date) {
      touches.push(at.getTime());
    },
    async revoke(_orgId: string, id: string) {
      const found = rows.get(id);
      if (!found || found.revoked_at) return false;
      found.revoked_at = new Date(clock);
      return true;
    },
  } as unknown as ApiKeyRepository;
  const now = () => new Date(clock);
  const service = createApiKeyService({
    apiKeys,
    organisations: {} as OrganisationRepository,
    now,
    cache: createApiKeyCache({
      ttlMs: options.ttlSeconds * 1000,
      maxEntries: options.maxEntries ?? 100,
      now: () => clock,
    }),
  });
  return {
    service,
    lookups,
    touches,
    rows,
    advance: (ms: number) => (clock += ms),
  };
}

describe('API key checks kept for API_KEY_CACHE_SECONDS', () => {
  it('asks the database once per key within the time, again after it, and then sees a revocation made elsewhere', async () => {
    const { service, lookups, rows, advance } = setUp({ ttlSeconds: 5 });
    expect((await service.authenticate(token))?.actor).toEqual({ type: 'api-key', keyId: 'key-1' });
    advance(4_000);
    expect(await service.authenticate(token)).not.toBeNull();
    expect(lookups).toHaveLength(1);
    rows.get('key-1')!.revoked_at = new Date();
    advance(1_001);
    expect(await service.authenticate(token)).toBeNull();
    expect(lookups).toHaveLength(2);
  });

  it('drops a key revoked through this server at once', async () => {
    const { service } = setUp({ ttlSeconds: 300 });
    expect(await service.authenticate(token)).not.toBeNull();
    await service.revoke('org-1', 'key-1');
    expect(await service.authenticate(token)).toBeNull();
    expect(await service.authenticate(otherToken)).not.toBeNull();
  });

  it('never trusts a cached check past the key’s own expiry', async () => {
    const { service, advance } = setUp({ ttlSeconds: 300, expiresAt: new Date('2026-12-05T10:00:02Z') });
    expect(await service.authenticate(token)).not.toBeNull();
    advance(1_999);
    expect(await service.authenticate(token)).not.toBeNull();
    advance(1);
    expect(await service.authenticate(token)).toBeNull();
  });

  it('keeps no refused token, and asks the database every time with 0 seconds', async () => {
    const unknown = setUp({ ttlSeconds: 5 });
    expect(await unknown.service.authenticate(`sag_${'z'.repeat(43)}`)).toBeNull();
    expect(await unknown.service.authenticate(`sag_${'z'.repeat(43)}`)).toBeNull();
    expect(unknown.lookups).toHaveLength(2);
    const off = setUp({ ttlSeconds: 0 });
    await off.service.authenticate(token);
    await off.service.authenticate(token);
    expect(off.lookups).toHaveLength(2);
  });

  it('forgets the least recently used key beyond its size', async () => {
    const { service, lookups } = setUp({ ttlSeconds: 60, maxEntries: 1 });
    await service.authenticate(token);
    await service.authenticate(otherToken);
    await service.authenticate(otherToken);
    await service.authenticate(token);
    expect(lookups.map((hash) => (hash === hashApiKey(token) ? 'first' : 'second'))).toEqual([
      'first',
      'second',
      'first',
    ]);
  });

  it('still records when a key was last used, at most once a minute, from cached checks too', async () => {
    const { service, touches, advance } = setUp({ ttlSeconds: 300 });
    await service.authenticate(token);
    advance(30_000);
    await service.authenticate(token);
    advance(31_000);
    await service.authenticate(token);
    expect(touches.map((at) => at - touches[0]!)).toEqual([0, 61_000]);
  });
});
