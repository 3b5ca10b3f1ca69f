import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';
import type { Band } from '../pipeline/report.js';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;

export interface OrganisationTable {
  id: string;
  name: string;
  created_at: Timestamp;
  /** Admins of this organisation must have TOTP enrolled. */
  require_admin_2fa: ColumnType<boolean, boolean | undefined, boolean>;
  /** Media is crypto-shredded this many days after upload (1–36500); null keeps it (0013). */
  media_retention_days: ColumnType<number | null, number | null | undefined, number | null>;
  /** When an admin last set the retention policy; null while it was never set. */
  retention_updated_at: NullableTimestamp;
}

export type ApiKeyRole = 'admin' | 'analyst' | 'viewer' | 'auditor';
/** People and API keys share one set of roles. */
export type Role = ApiKeyRole;
export const roles = ['admin', 'analyst', 'viewer', 'auditor'] as const satisfies readonly Role[];

export interface ApiKeyTable {
  id: string;
  org_id: string;
  name: string;
  /** First characters of the key, shown in listings so a key can be recognised without revealing it. */
  prefix: string;
  /** SHA-256 of the full key: keys are 256-bit random, so a fast hash is enough (no offline guessing). */
  key_hash: string;
  role: ApiKeyRole;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export type UserStatus = 'active' | 'disabled';

export interface UserTable {
  id: string;
  org_id: string;
  /** Lower-cased; unique across the deployment. */
  email: string;
  /** argon2id PHC string. */
  password_hash: string;
  role: Role;
  status: ColumnType<UserStatus, UserStatus | undefined, UserStatus>;
  created_at: Timestamp;
  updated_at: Timestamp;
  password_changed_at: Timestamp;
}

/** `second-factor`: the password step passed and TOTP is pending; only the second login step accepts it. */
export type SessionStage = 'second-factor' | 'complete';

export interface SessionTable {
  id: string;
  user_id: string;
  org_id: string;
  /** SHA-256 (hex) of the cookie token. */
  token_hash: string;
  /** Per-session HMAC key of the CSRF token (base64url). */
  csrf_secret: string;
  stage: SessionStage;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  absolute_expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  ip: string | null;
  user_agent: string | null;
}

export type MediaStatus = 'stored' | 'deleted';

export interface MediaTable {
  id: string;
  org_id: string;
  sha256: string;
  size_bytes: ColumnType<number, number, number>;
  mime_type: string;
  original_filename: string | null;
  blob_key: string;
  status: MediaStatus;
  probe: Json<unknown>;
  created_at: Timestamp;
  /** Set with status `deleted`, when the blob was shredded and the name and probe cleared. */
  deleted_at: NullableTimestamp;
  /** Who uploaded it; null for media stored before uploaders were recorded. */
  uploader_type: ColumnType<UploaderType | null, UploaderType | null | undefined, never>;
  uploader_id: ColumnType<string | null, string | null | undefined, never>;
  /** Legal hold (0013): while set, no deletion path (user, retention, erasure) may shred the media. */
  legal_hold_reason: ColumnType<string | null, string | null | undefined, string | null>;
  legal_hold_at: NullableTimestamp;
  /** Who set it, as `<actor type>:<id>` (e.g. `user:<uuid>`). */
  legal_hold_by: ColumnType<string | null, string | null | undefined, string | null>;
}

export type UploaderType = 'user' | 'api-key';

export type AnalysisStatus = 'queued' | 'running' | 'done' | 'failed';

export interface AnalysisTable {
  id: string;
  org_id: string;
  media_id: string;
  pipeline_version: string;
  status: AnalysisStatus;
  /** Fraction 0–1. */
  progress: number;
  stage: string | null;
  band: Band | null;
  report: NullableJson<unknown>;
  error_code: string | null;
  error_detail: string | null;
  attempts: number;
  /** 1 for the analysis queued at upload; each re-run at the same pipeline version counts on. */
  run: ColumnType<number, number | undefined, never>;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  updated_at: Timestamp;
}

export type EmbeddedJobStatus = 'waiting' | 'active' | 'done' | 'failed';

/** The embedded queue's durable job table (unused when REDIS_URL selects BullMQ). */
export interface JobTable {
  id: string;
  name: string;
  /** Unique per logical job, so enqueueing twice is a no-op. */
  dedupe_key: string;
  payload: Json<unknown>;
  status: EmbeddedJobStatus;
  attempts: number;
  max_attempts: number;
  run_at: Timestamp;
  locked_by: string | null;
  locked_until: NullableTimestamp;
  last_error: string | null;
  /** Last value the handler reported (0–100 by convention). */
  progress: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface UserTotpTable {
  user_id: string;
  /** The base32 secret sealed with the master keyring (object key `user-totp/<user id>`). */
  secret_sealed: Buffer;
  /** Null until the first code is confirmed; an unconfirmed secret is not asked for at login. */
  confirmed_at: NullableTimestamp;
  /** Last accepted RFC 6238 time step: codes of this step or earlier are refused (replay). */
  last_used_step: ColumnType<number | null, number | null | undefined, number | null>;
  created_at: Timestamp;
}

export interface RecoveryCodeTable {
  id: string;
  user_id: string;
  /** SHA-256 (hex) of the normalised code. */
  code_hash: string;
  created_at: Timestamp;
  used_at: NullableTimestamp;
}

export type OneTimeTokenPurpose = 'invite' | 'password_reset';

export interface OneTimeTokenTable {
  id: string;
  purpose: OneTimeTokenPurpose;
  /** SHA-256 (hex) of the 256-bit token. */
  token_hash: string;
  org_id: string;
  /** The account a reset is for; null for an invite. */
  user_id: string | null;
  email: string;
  /** The role an invite grants; null for a reset. */
  role: Role | null;
  created_by: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface OutboxMessageTable {
  id: string;
  org_id: string | null;
  to_address: string;
  subject: string;
  /** In full, secrets included: SMTP and the host's CLI only; emptied once delivered. */
  body_text: string;
  /** Secrets (one-time tokens) replaced by `[redacted]`: what the API shows. */
  body_redacted: string;
  created_at: Timestamp;
  sent_at: NullableTimestamp;
  error: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp;
}

/** Login throttle state (see login-throttle.service.ts); the Redis store replaces it when REDIS_URL is set. */
export interface LoginThrottleTable {
  key: string;
  /** JSON, opaque to the database. */
  state: string;
  expires_at: Timestamp;
}

export type ShredReason = 'user-deletion' | 'retention' | 'erasure-request' | 'organisation-deletion';

/** A blob whose data key was destroyed (see 0012_shred_ledger): restores re-apply this list. */
export interface ShreddedBlobTable {
  blob_key: string;
  organisation_id: string | null;
  reason: ShredReason;
  shredded_at: Timestamp;
}

/** One master key rotation and its progress (see 0014_key_rotations). */
export interface KeyRotationTable {
  id: string;
  to_kek_id: string;
  to_kek_version: number;
  /** Comma-separated ids of the KEKs being rotated away from (the previous keys configured at the start). */
  from_kek_ids: string;
  status: 'running' | 'finished' | 'superseded';
  /** The kind of object being re-wrapped when the row was last written (blobs, staged uploads, TOTP secrets). */
  phase: string | null;
  /** Objects re-wrapped so far, over every run of this rotation. */
  objects_done: number;
  /** Objects found already under the new key by the latest run. */
  objects_skipped: number;
  last_key: string | null;
  last_error: string | null;
  /** host:pid:nonce of the process running it; the lease stops two processes running it at once. */
  owner: string | null;
  lease_until: NullableTimestamp;
  started_at: Timestamp;
  updated_at: Timestamp;
  finished_at: NullableTimestamp;
}

/** A master key taken out of service after a rotation (see 0014_key_rotations). */
export interface RetiredMasterKeyTable {
  kek_id: string;
  kek_version: number;
  rotation_id: string | null;
  retired_at: Timestamp;
}

/** A read-only link to one report (see 0015_report_shares); the token itself is never stored. */
export interface ReportShareTable {
  id: string;
  organisation_id: string;
  analysis_id: string;
  /** SHA-256 (hex) of the 256-bit token. */
  token_hash: string;
  label: string | null;
  include_media: boolean;
  created_by_type: UploaderType;
  created_by: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  revoked_by_type: UploaderType | null;
  revoked_by: string | null;
  first_used_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
  use_count: ColumnType<number, number | undefined, number>;
}

export type WebhookDeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** An organisation's webhook endpoint (see 0016_webhooks); its signing secrets are sealed by the master key. */
export interface WebhookEndpointTable {
  id: string;
  organisation_id: string;
  url: string;
  description: string | null;
  /** Comma-separated event type names. */
  event_types: string;
  secret_sealed: Uint8Array;
  previous_secret_sealed: Uint8Array | null;
  previous_secret_expires_at: NullableTimestamp;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  disabled_reason: string | null;
  consecutive_failures: ColumnType<number, number | undefined, number>;
  created_by_type: UploaderType;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type FeatureFlagType = 'boolean' | 'string' | 'number' | 'object';
/** A variant's share of a percentage rollout; shares are weight / sum of weights. */
export interface RolloutWeight {
  variant: string;
  weight: number;
}

/** A deployment-wide feature flag (see 0017_feature_flags). */
export interface FeatureFlagTable {
  key: string;
  type: FeatureFlagType;
  description: ColumnType<string, string | undefined, string>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  /** Variant name -> value of the flag's type. */
  variants: Json<Record<string, unknown>>;
  default_variant: string;
  rollout: NullableJson<RolloutWeight[]>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** One event for one endpoint, with its attempts counted (see 0016_webhooks). */
export interface WebhookDeliveryTable {
  id: string;
  organisation_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  payload: string;
  status: WebhookDeliveryStatus;
  attempt_count: ColumnType<number, number | undefined, number>;
  last_response_code: number | null;
  last_error: string | null;
  next_attempt_at: NullableTimestamp;
  redelivery_of: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  finished_at: NullableTimestamp;
}

/** One HTTP attempt of a delivery (the delivery log). */
export interface WebhookDeliveryAttemptTable {
  delivery_id: string;
  attempt: number;
  started_at: Timestamp;
  duration_ms: number;
  response_code: number | null;
  response_excerpt: string | null;
  error: string | null;
}

/** One organisation pinned to one variant of a flag. */
export interface FeatureFlagOverrideTable {
  flag_key: string;
  organisation_id: string;
  variant: string;
  updated_at: Timestamp;
}

export interface Database {
  organisations: OrganisationTable;
  api_keys: ApiKeyTable;
  users: UserTable;
  sessions: SessionTable;
  media: MediaTable;
  analyses: AnalysisTable;
  jobs: JobTable;
  login_throttle: LoginThrottleTable;
  user_totp: UserTotpTable;
  recovery_codes: RecoveryCodeTable;
  one_time_tokens: OneTimeTokenTable;
  outbox_messages: OutboxMessageTable;
  shredded_blobs: ShreddedBlobTable;
  key_rotations: KeyRotationTable;
  retired_master_keys: RetiredMasterKeyTable;
  report_shares: ReportShareTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptTable;
  feature_flags: FeatureFlagTable;
  feature_flag_overrides: FeatureFlagOverrideTable;
}

export type Organisation = Selectable<OrganisationTable>;
export type WebhookEndpoint = Selectable<WebhookEndpointTable>;
export type WebhookDelivery = Selectable<WebhookDeliveryTable>;
export type WebhookDeliveryAttempt = Selectable<WebhookDeliveryAttemptTable>;
export type ApiKey = Selectable<ApiKeyTable>;
export type User = Selectable<UserTable>;
export type Session = Selectable<SessionTable>;
export type Media = Selectable<MediaTable>;
export type NewMedia = Insertable<MediaTable>;
export type Analysis = Selectable<AnalysisTable>;
export type AnalysisUpdate = Updateable<AnalysisTable>;
export type Job = Selectable<JobTable>;
export type UserTotp = Selectable<UserTotpTable>;
export type OneTimeToken = Selectable<OneTimeTokenTable>;
export type OutboxMessage = Selectable<OutboxMessageTable>;
export type KeyRotation = Selectable<KeyRotationTable>;
export type ReportShare = Selectable<ReportShareTable>;
