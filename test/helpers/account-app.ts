import { randomInt, randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { generate } from 'otplib';
import type { Logger } from 'pino';
import { openPlatform, type Platform } from '../../src/app/platform.js';
import { buildPlatformApp } from '../../src/app/server.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { Role } from '../../src/db/schema.js';
import { testLogger, type DatabaseImplementation, type TestDatabase } from './databases.js';

export const strongPassword = 'correct horse battery staple';
const origin = 'http://localhost';

/** A clock the test moves by hand; the whole platform (sessions, throttle, tokens, TOTP) reads it. */
export class ManualClock {
  private current = Date.parse('2026-03-02T09:00:00.000Z');
  now = (): Date => new Date(this.current);
  advanceSeconds(seconds: number): void {
    this.current += seconds * 1000;
  }
  advanceMinutes(minutes: number): void {
    this.advanceSeconds(minutes * 60);
  }
  /** Seconds since the epoch, as TOTP counts them. */
  epoch(): number {
    return Math.floor(this.current / 1000);
  }
}

/** The TOTP code an authenticator app shows at the test clock's time (or `offsetSeconds` from it). */
export function totpCode(secret: string, clock: ManualClock, offsetSeconds = 0): Promise<string> {
  return generate({ secret, epoch: clock.epoch() + offsetSeconds });
}

/** A browser: keeps the session cookie, sends Origin and the CSRF token on state-changing requests. */
export class Client {
  cookie: { name: string; value: string } | null = null;
  csrfToken: string | null = null;
  readonly ip = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

  constructor(private readonly app: FastifyInstance) {}

  async request(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
  ): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { 'user-agent': 'vitest' };
    if (this.cookie) headers.cookie = `${this.cookie.name}=${this.cookie.value}`;
    if (method !== 'GET') {
      headers.origin = origin;
      if (this.csrfToken) headers['x-csrf-token'] = this.csrfToken;
    }
    const response = await this.app.inject({
      method,
      url,
      headers,
      remoteAddress: this.ip,
      ...(payload ? { payload } : {}),
    });
    const [set] = response.cookies;
    if (set) this.cookie = set.value ? { name: set.name, value: set.value } : null;
    const body = String(response.headers['content-type'] ?? '').startsWith('application/json')
      ? response.json<{ csrfToken?: unknown }>()
      : null;
    if (typeof body?.csrfToken === 'string') this.csrfToken = body.csrfToken;
    return response;
  }

  post(url: string, payload: object = {}) {
    return this.request('POST', url, payload);
  }

  get(url: string) {
    return this.request('GET', url);
  }

  /** POST /api/v1/auth/login; returns the response (the cookie and CSRF token are kept). */
  login(email: string, password = strongPassword) {
    return this.post('/api/v1/auth/login', { email, password });
  }
}

export interface AccountApp {
  app: FastifyInstance;
  platform: Platform;
  clock: ManualClock;
  client(): Client;
  createOrg(label?: string): Promise<{ id: string; name: string }>;
  createUser(orgId: string, role: Role, password?: string): Promise<{ id: string; email: string }>;
  /** Waits for background work: reset requests, then mail delivery. */
  settle(): Promise<void>;
  auditActions(orgId: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The real composition root (openPlatform + buildPlatformApp) on a fresh store of this implementation, with
 * a manual clock; `env` adds configuration (e.g. SMTP_URL).
 */
export async function openAccountApp(
  implementation: DatabaseImplementation,
  env: Record<string, string> = {},
  log: Logger = testLogger(),
): Promise<AccountApp> {
  const store: TestDatabase = await implementation.open();
  // PGlite allows one handle per directory: the platform opens its own.
  await store.close();
  const clock = new ManualClock();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: store.settings.dataDir,
    ...(store.settings.databaseUrl ? { DATABASE_URL: store.settings.databaseUrl } : {}),
    WORKER_CONCURRENCY: '0',
    PUBLIC_URL: 'https://guardian.example.org',
    MAIL_FROM: 'SecureAI Guardian <guardian@example.org>',
    ...env,
  });
  const platform = await openPlatform(config, log, { now: clock.now });
  const app = await buildPlatformApp(platform);
  await app.ready();
  return {
    app,
    platform,
    clock,
    client: () => new Client(app),
    createOrg: (label = 'Org') =>
      platform.services.organisationService.create(`${label} ${randomUUID().slice(0, 8)}`),
    async createUser(orgId, role, password = strongPassword) {
      const user = await platform.services.userService.create(
        { orgId, email: `${role}-${randomUUID().slice(0, 8)}@example.org`, password, role },
        { actor: { type: 'cli', id: null } },
      );
      return { id: user.id, email: user.email };
    },
    async settle() {
      await platform.backgroundWork.idle();
      await platform.mailer.idle();
    },
    async auditActions(orgId) {
      const page = await platform.auditLog.list({ orgId, limit: 200 });
      return page.events.map((event) => `${event.action}:${event.outcome}`);
    },
    async close() {
      await app.close();
      await platform.close();
      await store.destroy();
    },
  };
}

/** Enrols and confirms TOTP for a signed-in client; returns the secret and the recovery codes. */
export async function enableTotp(
  account: AccountApp,
  client: Client,
  password = strongPassword,
): Promise<{ secret: string; recoveryCodes: string[] }> {
  const enrolled = await client.post('/api/v1/auth/2fa/enrol', { password });
  if (enrolled.statusCode !== 200) throw new Error(`enrol: ${enrolled.statusCode} ${enrolled.body}`);
  const { secret } = enrolled.json<{ secret: string }>();
  const confirmed = await client.post('/api/v1/auth/2fa/confirm', {
    code: await totpCode(secret, account.clock),
  });
  if (confirmed.statusCode !== 200) throw new Error(`confirm: ${confirmed.statusCode} ${confirmed.body}`);
  // The confirming code's time step is spent: later codes come from the next step.
  account.clock.advanceSeconds(30);
  return { secret, recoveryCodes: confirmed.json<{ recoveryCodes: string[] }>().recoveryCodes };
}
