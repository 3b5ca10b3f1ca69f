import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SessionStage } from '../db/schema.js';
import type { Principal } from '../http/access-control.js';
import type { SessionRepository } from '../repositories/session.repository.js';
import { notFound } from './errors.js';

const tokenPattern = /^[A-Za-z0-9_-]{43}$/;
const lastSeenResolutionMs = 60_000;
/** A half-logged-in session (password accepted, TOTP pending) lives this long at most. */
const secondFactorWindowMs = 10 * 60_000;

export interface SessionTimeouts {
  idleMinutes: number;
  absoluteHours: number;
}

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/** What a new or rotated session gives the client: the cookie value and the CSRF token, each once. */
export interface IssuedSession {
  sessionId: string;
  token: string;
  csrfToken: string;
  stage: SessionStage;
}

export interface AuthenticatedSession {
  principal: Principal & { actor: { type: 'user'; userId: string; sessionId: string } };
  sessionId: string;
  userId: string;
  email: string;
  stage: SessionStage;
  /** The CSRF token this session expects in X-CSRF-Token. */
  csrfToken: string;
}

export interface SessionListEntry {
  id: string;
  stage: SessionStage;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** HMAC of the cookie token under the session's own key: a database leak alone does not yield it. */
function csrfTokenFor(token: string, csrfSecret: string): string {
  return createHmac('sha256', Buffer.from(csrfSecret, 'base64url'))
    .update('secureai-guardian/csrf/v1\0')
    .update(token)
    .digest('base64url');
}

export function csrfTokensMatch(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Server-side sessions: a 256-bit random cookie token of which only the SHA-256 is stored, a new token at
 * every login and privilege change, idle and absolute timeouts checked on every request.
 */
export function createSessionService(deps: {
  sessions: SessionRepository;
  now: () => Date;
  timeouts: SessionTimeouts;
}) {
  const { sessions, now } = deps;
  const idleMs = deps.timeouts.idleMinutes * 60_000;
  const absoluteMs = deps.timeouts.absoluteHours * 3_600_000;

  const freshSecrets = () => {
    const token = randomBytes(32).toString('base64url');
    const csrfSecret = randomBytes(32).toString('base64url');
    return {
      token,
      csrfSecret,
      tokenHash: hashSessionToken(token),
      csrfToken: csrfTokenFor(token, csrfSecret),
    };
  };
  const expiryFor = (stage: SessionStage, at: Date) =>
    new Date(
      at.getTime() + (stage === 'second-factor' ? Math.min(secondFactorWindowMs, absoluteMs) : absoluteMs),
    );

  return {
    async start(input: {
      userId: string;
      orgId: string;
      stage: SessionStage;
      client: ClientInfo;
    }): Promise<IssuedSession> {
      const at = now();
      const secrets = freshSecrets();
      const session = await sessions.create({
        userId: input.userId,
        orgId: input.orgId,
        tokenHash: secrets.tokenHash,
        csrfSecret: secrets.csrfSecret,
        stage: input.stage,
        createdAt: at,
        absoluteExpiresAt: expiryFor(input.stage, at),
        ip: input.client.ip?.slice(0, 64) ?? null,
        userAgent: input.client.userAgent?.slice(0, 512) ?? null,
      });
      return {
        sessionId: session.id,
        token: secrets.token,
        csrfToken: secrets.csrfToken,
        stage: input.stage,
      };
    },

    /** The live session behind a cookie token, or null (unknown, revoked, idle, expired, user disabled). */
    async authenticate(token: string): Promise<AuthenticatedSession | null> {
      if (!tokenPattern.test(token)) return null;
      const found = await sessions.findLiveByTokenHash(hashSessionToken(token));
      if (!found) return null;
      const at = now();
      const idleExpired = at.getTime() - found.last_seen_at.getTime() >= idleMs;
      if (idleExpired || at.getTime() >= found.absolute_expires_at.getTime()) {
        await sessions.revoke(found.id, at);
        return null;
      }
      if (at.getTime() - found.last_seen_at.getTime() >= lastSeenResolutionMs)
        await sessions.touch(found.id, at);
      return {
        principal: {
          orgId: found.org_id,
          orgName: found.org_name,
          role: found.user_role,
          actor: { type: 'user', userId: found.user_id, sessionId: found.id },
        },
        sessionId: found.id,
        userId: found.user_id,
        email: found.user_email,
        stage: found.stage,
        csrfToken: csrfTokenFor(token, found.csrf_secret),
      };
    },

    /**
     * A new token and CSRF token for a live session (after a password change, or when the second factor
     * completes the login); the old cookie stops working at once.
     */
    async rotate(sessionId: string, stage: SessionStage = 'complete'): Promise<IssuedSession> {
      const at = now();
      const secrets = freshSecrets();
      const rotated = await sessions.rotate(sessionId, {
        tokenHash: secrets.tokenHash,
        csrfSecret: secrets.csrfSecret,
        stage,
        absoluteExpiresAt: expiryFor(stage, at),
        at,
      });
      if (!rotated) throw notFound('session');
      return { sessionId, token: secrets.token, csrfToken: secrets.csrfToken, stage };
    },

    end: (sessionId: string) => sessions.revoke(sessionId, now()),

    /** Ends the session behind a cookie token, whoever's it is (a new login replaces it). */
    async endByToken(token: string): Promise<void> {
      if (tokenPattern.test(token)) await sessions.revokeByTokenHash(hashSessionToken(token), now());
    },

    /** Ends every session of the user, or every one but `keepSessionId`; returns how many. */
    endAllForUser: (userId: string, keepSessionId?: string) =>
      sessions.revokeAllForUser(userId, now(), keepSessionId),

    async list(userId: string, currentSessionId: string | null): Promise<SessionListEntry[]> {
      const at = now();
      const live = await sessions.listLiveForUser(userId, {
        now: at,
        idleSince: new Date(at.getTime() - idleMs),
      });
      return live.map((session) => ({
        id: session.id,
        stage: session.stage,
        createdAt: session.created_at,
        lastSeenAt: session.last_seen_at,
        expiresAt: session.absolute_expires_at,
        ip: session.ip,
        userAgent: session.user_agent,
        current: session.id === currentSessionId,
      }));
    },

    /** Revokes one of the user's own sessions; another user's (or an unknown) id is 404. */
    async revokeOwn(userId: string, sessionId: string): Promise<void> {
      if (!(await sessions.revokeForUser(userId, sessionId, now()))) throw notFound('session');
    },
  };
}

export type SessionService = ReturnType<typeof createSessionService>;
