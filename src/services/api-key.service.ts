import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyRole } from '../db/schema.js';
import type { Principal } from '../http/access-control.js';
import type { ApiKeyRepository, ApiKeySummary } from '../repositories/api-key.repository.js';
import type { OrganisationRepository } from '../repositories/organisation.repository.js';
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
}) {
  const { apiKeys, organisations, now } = deps;
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

    /** Effective at once: every request checks the key in the database. Another org's key: 404. */
    async revoke(orgId: string, id: string): Promise<void> {
      if (!(await apiKeys.revoke(orgId, id))) throw notFound('API key');
    },

    async authenticate(token: string): Promise<Principal | null> {
      if (!token.startsWith(keyPrefix)) return null;
      const at = now();
      const found = await apiKeys.findUsableByHash(hashApiKey(token), at);
      if (!found) return null;
      if (!found.last_used_at || at.getTime() - found.last_used_at.getTime() > lastUsedResolutionMs) {
        await apiKeys.touchLastUsed(found.id, at);
      }
      return {
        orgId: found.org_id,
        orgName: found.org_name,
        role: found.role,
        actor: { type: 'api-key', keyId: found.id },
      };
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
