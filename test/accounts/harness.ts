import { randomInt, randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Role } from '../../src/db/schema.js';
import { buildApp } from '../../src/http/build-app.js';
import { createApiKeyRepository } from '../../src/repositories/api-key.repository.js';
import { createOrganisationRepository } from '../../src/repositories/organisation.repository.js';
import { createSessionRepository } from '../../src/repositories/session.repository.js';
import { createUserRepository } from '../../src/repositories/user.repository.js';
import { createApiKeyService } from '../../src/services/api-key.service.js';
import type { AuditEvent, AuditLog } from '../../src/services/audit-log.js';
import { createAuthService, type SecondFactor } from '../../src/services/auth.service.js';
import type { LoginThrottle, ThrottleDecision } from '../../src/services/login-throttle.js';
import { createPasswordHasher, type PasswordHasher } from '../../src/services/password-hasher.js';
import { createSessionService } from '../../src/services/session.service.js';
import { createUserService } from '../../src/services/user.service.js';
import { testLogger, type TestDatabase } from '../helpers/databases.js';

/** A clock the test moves by hand. */
export class TestClock {
  private current = new Date('2026-03-02T09:00:00.000Z').getTime();
  now = () => new Date(this.current);
  advanceMinutes(minutes: number): void {
    this.current += minutes * 60_000;
  }
}

/** Records appended events; nothing is persisted. */
export class RecordingAuditLog implements AuditLog {
  readonly events: AuditEvent[] = [];
  async append(event: AuditEvent): Promise<void> {
    this.events.push(event);
  }
  actions(): string[] {
    return this.events.map((event) => `${event.action}:${event.outcome}`);
  }
}

/** Allows everything unless told to refuse; records what it was told. */
export class FakeThrottle implements LoginThrottle {
  readonly calls: string[] = [];
  refusal: Extract<ThrottleDecision, { allowed: false }> | null = null;
  async check(attempt: { accountKey: string; ip: string }): Promise<ThrottleDecision> {
    this.calls.push(`check:${attempt.accountKey}`);
    return this.refusal ?? { allowed: true };
  }
  async recordFailure(attempt: { accountKey: string; ip: string }): Promise<void> {
    this.calls.push(`failure:${attempt.accountKey}`);
  }
  async recordSuccess(attempt: { accountKey: string }): Promise<void> {
    this.calls.push(`success:${attempt.accountKey}`);
  }
}

export const origin = 'http://localhost';
export const goodPassword = 'correct horse battery staple';

const inert = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('not part of the accounts tests');
    },
  },
) as never;

export interface AccountsHarness {
  app: FastifyInstance;
  clock: TestClock;
  audit: RecordingAuditLog;
  throttle: FakeThrottle;
  enrolled: Set<string>;
  hasherCalls: { verify: number; verifyDummy: number };
  services: {
    users: ReturnType<typeof createUserService>;
    sessions: ReturnType<typeof createSessionService>;
    apiKeys: ReturnType<typeof createApiKeyService>;
  };
  createOrg(name?: string): Promise<{ id: string; name: string }>;
  createUser(orgId: string, role: Role, password?: string): Promise<{ id: string; email: string }>;
  close(): Promise<void>;
}

/** The real accounts stack (repositories, argon2, sessions, routes) over a test database, with fakes for the ports. */
export async function openAccountsHarness(
  database: TestDatabase,
  options: { production?: boolean; timeouts?: { idleMinutes: number; absoluteHours: number } } = {},
): Promise<AccountsHarness> {
  const clock = new TestClock();
  const audit = new RecordingAuditLog();
  const throttle = new FakeThrottle();
  const enrolled = new Set<string>();
  const secondFactor: SecondFactor = { isEnabled: async (userId) => enrolled.has(userId) };
  const organisations = createOrganisationRepository({ db: database.db });
  const users = createUserRepository({ db: database.db });
  const argon2 = createPasswordHasher({ concurrency: 2 });
  const hasherCalls = { verify: 0, verifyDummy: 0 };
  const hasher: PasswordHasher = {
    ...argon2,
    verify: (hash, password) => {
      hasherCalls.verify += 1;
      return argon2.verify(hash, password);
    },
    verifyDummy: (password) => {
      hasherCalls.verifyDummy += 1;
      return argon2.verifyDummy(password);
    },
  };
  const sessions = createSessionService({
    sessions: createSessionRepository({ db: database.db }),
    now: clock.now,
    timeouts: options.timeouts ?? { idleMinutes: 30, absoluteHours: 12 },
  });
  const userService = createUserService({ users, organisations, sessions, hasher, audit, now: clock.now });
  const auth = createAuthService({
    users,
    organisations,
    hasher,
    sessions,
    throttle,
    audit,
    secondFactor,
    now: clock.now,
  });
  const apiKeys = createApiKeyService({
    apiKeys: createApiKeyRepository({ db: database.db }),
    organisations,
    now: clock.now,
  });
  const deps = {
    log: testLogger(),
    authenticator: apiKeys,
    apiKeys: inert,
    audit: inert,
    sessions,
    allowInsecureSessionCookie: !options.production,
    accounts: { auth, sessions, users: userService },
    mediaService: inert,
    storedMedia: inert,
    analysisService: inert,
    analysisArtifacts: inert,
    analyses: inert,
    events: inert,
    healthChecks: [],
    uploads: { handler: inert },
    maxUploadBytes: 1024,
    trustedProxies: [],
  };
  // A variable, not a literal: collaborators other features add to AppDeps stay inert here.
  const app = await buildApp(deps);
  await app.ready();
  return {
    app,
    clock,
    audit,
    throttle,
    enrolled,
    hasherCalls,
    services: { users: userService, sessions, apiKeys },
    createOrg: (name = `Org ${randomUUID()}`) => organisations.create(name),
    async createUser(orgId, role, password = goodPassword) {
      const created = await userService.create(
        { orgId, email: `${role}-${randomUUID()}@example.org`, password, role },
        { actor: { type: 'cli', id: null } },
      );
      return { id: created.id, email: created.email };
    },
    close: () => app.close(),
  };
}

/** A fresh client address per call unless given, so per-address rate limits never interfere. */
export function someIp(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

export interface SignedIn {
  cookie: string;
  cookieName: string;
  csrfToken: string;
  response: LightMyRequestResponse;
}

export async function login(
  app: FastifyInstance,
  email: string,
  password = goodPassword,
  extraHeaders: Record<string, string> = {},
): Promise<SignedIn> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    remoteAddress: someIp(),
    headers: { origin, 'user-agent': 'vitest', ...extraHeaders },
    payload: { email, password },
  });
  expect(response.statusCode, response.body).toBe(200);
  const [set] = response.cookies;
  if (!set) throw new Error('no Set-Cookie on login');
  return {
    cookie: set.value,
    cookieName: set.name,
    csrfToken: response.json<{ csrfToken: string }>().csrfToken,
    response,
  };
}

/** A request carrying the session cookie; state-changing ones also carry Origin and the CSRF token. */
export function withSession(
  session: SignedIn,
  request: { method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object },
  overrides: { origin?: string | null; csrf?: string | null } = {},
) {
  const headers: Record<string, string> = { cookie: `${session.cookieName}=${session.cookie}` };
  const csrf = overrides.csrf === undefined ? session.csrfToken : overrides.csrf;
  const from = overrides.origin === undefined ? origin : overrides.origin;
  if (request.method !== 'GET') {
    if (csrf !== null) headers['x-csrf-token'] = csrf;
    if (from !== null) headers.origin = from;
  }
  return { ...request, remoteAddress: someIp(), headers };
}
