export type AuditActor =
  | { type: 'user'; id: string }
  | { type: 'api-key'; id: string }
  | { type: 'cli'; id: null }
  | { type: 'anonymous'; id: null }
  /** The platform itself, e.g. a worker that found a stored blob tampered with. */
  | { type: 'system'; id: null };

/** One security event: who, what, when (UTC, set by the log), where. */
export interface AuditEvent {
  /** Null for events outside any organisation (e.g. a failed login for an unknown email). */
  orgId: string | null;
  actor: AuditActor;
  /** Dotted verb, e.g. `auth.login`, `auth.2fa.enable`, `apikey.create`, `media.delete`, `user.role.change`. */
  action: string;
  outcome: 'success' | 'failure';
  target?: { type: string; id: string };
  ip?: string | null;
  userAgent?: string | null;
  /** Never secrets: no passwords, tokens, keys or codes. */
  details?: Record<string, string | number | boolean | null>;
}

/** Append-only, hash-chained security log. */
export interface AuditLog {
  append(event: AuditEvent): Promise<void>;
}
