import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openPlatform, type Platform } from '../../src/app/platform.js';
import { buildPlatformApp } from '../../src/app/server.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { ApiKeyRole } from '../../src/db/schema.js';
import { testLogger } from '../helpers/databases.js';

export const allRoles = ['admin', 'analyst', 'viewer', 'auditor'] as const satisfies readonly ApiKeyRole[];

export interface PlatformApp {
  platform: Platform;
  app: FastifyInstance;
  dataDir: string;
  close(): Promise<void>;
}

/** The real composition root (openPlatform + buildPlatformApp) on a temporary embedded database. */
export async function openPlatformApp(
  env: Record<string, string> = {},
  options: { beforeReady?(app: FastifyInstance): void } = {},
): Promise<PlatformApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'guardian-platform-app-'));
  try {
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATA_DIR: dataDir,
      WORKER_CONCURRENCY: '0',
      MAX_UPLOAD_BYTES: String(3 * 1024 * 1024),
      ...env,
    });
    const platform = await openPlatform(config, testLogger());
    const app = await buildPlatformApp(platform).catch(async (error: unknown) => {
      await platform.close();
      throw error;
    });
    options.beforeReady?.(app);
    await app.ready();
    return {
      platform,
      app,
      dataDir,
      async close() {
        await app.close();
        await platform.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export type RoleKeys = Record<ApiKeyRole, string>;

/** An organisation with one API key per role. */
export async function createOrganisationWithKeys(
  platform: Platform,
  label: string,
): Promise<{ orgId: string; name: string; keys: RoleKeys }> {
  const name = `${label} ${randomBytes(3).toString('hex')}`;
  const org = await platform.services.organisationService.create(name);
  const keys = {} as RoleKeys;
  for (const role of allRoles) {
    keys[role] = (
      await platform.services.apiKeyService.create({ orgName: name, name: `${role} key`, role })
    ).key;
  }
  return { orgId: org.id, name, keys };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

let addressCounter = 0;

/**
 * A client address of its own for each probe, so the per-address limits (which have their own tests) never
 * turn an expected 401/403/404 into a 429 as the route list grows.
 */
export function nextClientAddress(): string {
  addressCounter += 1;
  return `2001:db8:${(addressCounter >> 16).toString(16)}:${(addressCounter & 0xffff).toString(16)}::1`;
}
