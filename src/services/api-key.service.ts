import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyRole } from '../db/schema.js';
import type { Principal } from '../http/access-control.js';
import type { ApiKeyRepository, ApiKeySummary } from '../repositories/api-key.repository.js';
import type { OrganisationRepository } from '../repositories/organisation.repository.js';
import { noApiKeyCache, type ApiKeyCache } from './api-key-cache.js';
import { badRequest, notFound } from './errors.js';

const keyPrefix = 'sag_';
const lastUsedResolutionMs = 60_000;

export interface CreatedApiKey {
  id: string;
  /** The only time the full key exists outside the client: it is stored as a hash. */
  key: string;
  prefix: string;
  name: string;
  role: ApiKeyRole;
  orgId: string;
  createdAt: Date;
  expiresAt: Date | null;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function createApiKeyService(deps: {
  apiKeys: ApiKeyRepository;
  organisations: OrganisationRepository;
  now: () => Date;
  /** Keys already checked, for API_KEY_CACHE_SECONDS; absent: the database is asked every time. */
  cache?: ApiKeyCache;
}) {
  const { apiKeys, organisations, now } = deps;
  const cache = deps.cache ?? noApiKeyCache;
  async function createForOrg(
    orgId: string,
    input: { name: string; role: ApiKeyRole; expiresInDays?: number },
  ): Promise<CreatedApiKey> {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100)
      throw badRequest('invalid-key-name', 'name must be 1–100 characters');
    const key = `${keyPrefix}${randomBytes(32).toString('base64url')}`;
    const prefix = key.slice(0, 12);
    const expiresAt = input.expiresInDays
      ? new Date(now().getTime() + input.expiresInDays * 86_400_000)
      : null;
    const record = await apiKeys.create({
      orgId,
      name,
      role: input.role,
      prefix,
      keyHash: hashApiKey(key),
      expiresAt,
    });
    return {
      id: record.id,
      key,
      prefix,
      name,
      role: record.role,
      orgId,
      createdAt: record.created_at,
      expiresAt,
    };
  }

  /** Moves last_used_at at most once a minute per key; returns when it was last moved. */
  async function touchIfDue(keyId: string, lastUsedAt: number | null, at: Date): Promise<number | null> {
    if (lastUsedAt !== null && at.getTime() - lastUsedAt <= lastUsedResolutionMs) return lastUsedAt;
    await apiKeys.touchLastUsed(keyId, at);
    return at.getTime();
  }

  return {
    async create(input: {
      orgName: string;
      name: string;
      role: ApiKeyRole;
      expiresInDays?: number;
    }): Promise<CreatedApiKey> {
      const org = await organisations.findByName(input.orgName);
      if (!org) throw notFound(`organisation "${input.orgName}"`);
      return createForOrg(org.id, input);
    },

    /** An admin's key for their own organisation (the organisation comes from the caller, never the body). */
    createForOrg,

    /** The organisation's keys, newest first, revoked and expired ones included; never a hash. */
    list: (orgId: string): Promise<ApiKeySummary[]> => apiKeys.listByOrg(orgId),

    /**
     * Effective at once on this server (its cached check is dropped); on other servers within
     * API_KEY_CACHE_SECONDS. Another org's key: 404.
     */
    async revoke(orgId: string, id: string): Promise<void> {
      const revoked = await apiKeys.revoke(orgId, id);
      cache.forget(id);
      if (!revoked) throw notFound('API key');
    },

    async authenticate(token: string): Promise<Principal | null> {
      if (!token.startsWith(keyPrefix)) return null;
      const at = now();
      const keyHash = hashApiKey(token);
      const cached = cache.get(keyHash);
      if (cached) {
        // A hit does not ask the database: the entry remembers when last_used_at last moved.
        cached.lastUsedAt = await touchIfDue(cached.keyId, cached.lastUsedAt, at);
        return cached.principal;
      }
      const found = await apiKeys.findUsableByHash(keyHash, at);
      if (!found) return null;
      const lastUsedAt = await touchIfDue(found.id, found.last_used_at?.getTime() ?? null, at);
      const principal: Principal = {
        orgId: found.org_id,
        orgName: found.org_name,
        role: found.role,
        actor: { type: 'api-key', keyId: found.id },
      };
      cache.set(keyHash, { principal, keyId: found.id, expiresAt: found.expires_at, lastUsedAt });
      return principal;
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
