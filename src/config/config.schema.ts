import { z } from 'zod';

const GiB = 1024 ** 3;

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/** An http(s) URL without its trailing slashes; empty or unset: undefined. */
const httpUrl = () =>
  z
    .string()
    .trim()
    .transform((value) => (value === '' ? undefined : value.replace(/\/+$/, '')))
    .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional())
    .optional();

/** `true` or `false` (nothing else), default false. */
const booleanFlag = () =>
  z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true');

const integer = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/**
 * Every environment variable the platform reads, in one schema.
 * `docs/configuration.md` is generated from it (`npm run docs:config`); a test fails on drift.
 * Variables marked secret also accept NAME_FILE (a path whose contents are the value).
 */
export const configFields = {
  NODE_ENV: {
    schema: z.enum(['development', 'production', 'test']).default('development'),
    doc: 'Run mode. `production` refuses missing or default secrets and a public listener without TLS or a trusted proxy.',
  },
  HOST: {
    schema: z.string().min(1).default('127.0.0.1'),
    doc: 'Address the HTTP server binds to. Loopback unless TLS or TRUSTED_PROXIES is configured.',
  },
  PORT: { schema: integer(8080, 0, 65535), doc: 'HTTP port (0 picks a free port).' },
  DATA_DIR: {
    schema: z.string().min(1).default('./data'),
    doc: 'Directory for the embedded database, encrypted blobs, upload staging and the admin socket.',
  },
  DATABASE_URL: {
    schema: optionalString,
    secret: true,
    doc: 'PostgreSQL connection string. Unset: embedded PGlite in DATA_DIR/db.',
  },
  DATABASE_POOL_MAX: { schema: integer(10, 1, 500), doc: 'Maximum PostgreSQL pool connections per process.' },
  REDIS_URL: {
    schema: optionalString,
    secret: true,
    doc: 'Redis connection string. Set: jobs run on BullMQ and progress events go through Redis pub/sub.',
  },
  REDIS_KEY_PREFIX: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .default('guardian'),
    doc: 'Prefix of every Redis key and channel, so several deployments can share one Redis.',
  },
  CACHE_TTL_SECONDS: {
    schema: integer(60, 0, 86400),
    doc: 'How long a cached reply (a finished analysis report, the first page of the media list) may be served; every write that changes it invalidates it sooner. In Redis with REDIS_URL, in this process in embedded mode; off with DATABASE_URL but no REDIS_URL. 0 turns the cache off. See docs/caching.md.',
  },
  API_KEY_CACHE_SECONDS: {
    schema: integer(5, 0, 300),
    doc: 'How long a server trusts an API key it checked in the database before asking again (usable keys only, never past their expiry), so hot reads do not query the database for who is calling. A key revoked through a server stops working on it at once; on the other API servers of a scaled-out deployment within this many seconds. 0: every request asks the database.',
  },
  CACHE_MAX_ENTRIES: {
    schema: integer(2000, 1, 1_000_000),
    doc: 'Embedded mode: replies the in-process cache keeps at most (least recently used go first).',
  },
  CACHE_MAX_BYTES: {
    schema: integer(32 * 1024 * 1024, 1024, 4 * GiB),
    doc: 'Embedded mode: bytes of replies the in-process cache keeps at most (least recently used go first).',
  },
  CACHE_MAX_ENTRY_BYTES: {
    schema: integer(1024 * 1024, 1024, 512 * 1024 * 1024),
    doc: 'A reply larger than this is served but never cached (both modes).',
  },
  MASTER_KEY: {
    schema: optionalString,
    secret: true,
    doc: 'Key-encryption key for blobs: 32 bytes as 64 hex characters or base64. Embedded mode generates DATA_DIR/master.key on first start when unset; production requires it. Everything sealed with it (blobs, staged uploads, TOTP secrets) is re-wrapped by `guardian keys rotate` (see docs/key-management.md).',
  },
  MASTER_KEY_PREVIOUS: {
    schema: optionalString,
    secret: true,
    doc: 'During a master key rotation: the old master key(s), comma- or whitespace-separated, same format as MASTER_KEY. They only unwrap; MASTER_KEY wraps everything new. Remove it once `guardian keys retire` has run (a retired key still configured is warned about at start).',
  },
  LOG_SIGNING_KEY: {
    schema: optionalString,
    secret: true,
    doc: 'Ed25519 private key (PKCS#8 PEM, `openssl genpkey -algorithm ed25519`) that signs analysis statements and transparency log tree heads. Unset: DATA_DIR/log-signing-key.pem, generated on first start (mode 0600). Changing it rotates the key: the old public key stays listed for verification (see docs/verification.md).',
  },
  LOG_TREE_HEAD_INTERVAL_SECONDS: {
    schema: integer(300, 5, 86_400),
    doc: 'How often the transparency log signs a new tree head when the log or the audit chain moved since the last one, and logs finished analyses that have no statement yet (each run does a bounded amount).',
  },
  TSA_URL: {
    schema: optionalString,
    secret: true,
    doc: 'RFC 3161 time-stamping authority (HTTP POST of `application/timestamp-query`) that timestamps signed tree heads. Needs TSA_TRUSTED_ROOTS_FILE. Unset: no timestamp anchors. Only its origin is ever logged (a URL may carry a credential).',
  },
  TSA_TRUSTED_ROOTS_FILE: {
    schema: optionalString,
    doc: "PEM file with the root certificate(s) the TSA's certificate must chain to. Every token the TSA returns is checked against it (signature, signing certificate, timestamping-only key usage, chain, digest) before it is stored; a token that fails is a permanent anchor failure. Required with TSA_URL.",
  },
  SOLANA_RPC_URL: {
    schema: optionalString,
    secret: true,
    doc: 'Solana JSON-RPC HTTP endpoint that receives one memo transaction `guardian-tree-head:<hex digest>` per anchored tree head. Needs SOLANA_KEYPAIR_FILE and SOLANA_CLUSTER. Unset: no Solana anchors. Only its origin is ever logged (RPC providers put API keys in the URL).',
  },
  SOLANA_KEYPAIR_FILE: {
    schema: optionalString,
    doc: '`solana-keygen` JSON keypair that pays for and signs the memo transactions (keep it mode 0600, fund it with a little SOL: 5000 lamports per anchor at the base fee). Read at each attempt; a missing or malformed file fails the anchor with its reason. Required with SOLANA_RPC_URL.',
  },
  SOLANA_CLUSTER: {
    schema: z.enum(['mainnet-beta', 'testnet', 'devnet', 'localnet']).optional(),
    doc: 'The cluster SOLANA_RPC_URL belongs to, recorded with each Solana anchor and in evidence bundles so a verifier knows which ledger to ask. Required with SOLANA_RPC_URL.',
  },
  ANCHOR_INTERVAL_SECONDS: {
    schema: integer(600, 0, 7 * 86_400),
    doc: 'Anchoring policy, per kind (RFC 3161, Solana): the latest signed tree head is anchored when no anchor of that kind is pending and the previous one was created at least this many seconds ago; heads signed in between are covered by the next anchored head (it contains them, and bundles carry it). 0: every head that is the latest when the previous anchor settles.',
  },
  S3_BUCKET: {
    schema: optionalString,
    doc: 'S3 bucket for blobs (media, artifacts) and resumable-upload staging. Set: nothing of either is kept under DATA_DIR, so API servers and workers need no shared volume and no sticky routing (several API servers also need REDIS_URL, which locks each resumable upload across servers). Needs S3_REGION, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY. The bucket holds only ciphertext (see docs/storage.md). Unset: DATA_DIR/blobs.',
  },
  S3_REGION: {
    schema: optionalString,
    doc: 'Region of S3_BUCKET (e.g. `eu-west-1`; MinIO and most S3-compatible servers accept `us-east-1`). Required with S3_BUCKET.',
  },
  S3_ENDPOINT: {
    schema: optionalString,
    doc: 'S3-compatible endpoint URL (MinIO, Ceph, Garage, ...), e.g. `https://minio.internal:9000`. Unset: AWS S3 for S3_REGION.',
  },
  S3_ACCESS_KEY_ID: {
    schema: optionalString,
    secret: true,
    doc: 'Access key id for S3_BUCKET. Required with S3_BUCKET.',
  },
  S3_SECRET_ACCESS_KEY: {
    schema: optionalString,
    secret: true,
    doc: 'Secret access key for S3_BUCKET. Required with S3_BUCKET.',
  },
  S3_FORCE_PATH_STYLE: {
    schema: booleanFlag(),
    doc: 'Path-style requests (`https://endpoint/bucket/key`) instead of virtual-hosted ones (`https://bucket.endpoint/key`): `true` for most self-hosted S3-compatible servers.',
  },
  S3_PREFIX: {
    schema: z
      .string()
      .trim()
      .regex(/^([A-Za-z0-9_.-]+\/)*$/, 'must be empty or path segments each ending in / (e.g. `guardian/`)')
      .default(''),
    doc: 'Prefix of every object key in S3_BUCKET (e.g. `guardian/`), so several deployments can share a bucket.',
  },
  MAX_UPLOAD_BYTES: {
    schema: integer(20 * GiB, 1, Number.MAX_SAFE_INTEGER),
    doc: 'Largest accepted upload in bytes, enforced while streaming (413 beyond it).',
  },
  UPLOAD_EXPIRY_SECONDS: {
    schema: integer(24 * 3600, 60, 30 * 24 * 3600),
    doc: 'Unfinished resumable uploads older than this are deleted.',
  },
  WORKER_CONCURRENCY: {
    schema: integer(1, 0, 64),
    doc: 'Analysis jobs one process runs at once. 0 makes `serve` an API-only process (scaled out, with separate `guardian worker`s).',
  },
  DETECTOR_THREADS: {
    schema: integer(0, 0, 64),
    doc: 'Worker threads the pixel detectors (the five face detectors) run in, shared by every analysis of the process; started on demand, ended after a minute idle. 0: one per processor available to the process. Decoding (ffmpeg) and the face search run beside them.',
  },
  RECONCILE_INTERVAL_SECONDS: {
    schema: integer(60, 1, 86400),
    doc: 'How often queued analyses without a live job are re-enqueued.',
  },
  LIFECYCLE_INTERVAL_SECONDS: {
    schema: integer(3600, 0, 7 * 86400),
    doc: "How often the retention job (crypto-shreds media past its organisation's retention period) and the housekeeping job (purges expired sessions, used or expired one-time tokens, delivered mail and old finished jobs) are queued. 0: never on a schedule (run `guardian retention run` from cron instead). See docs/privacy.md.",
  },
  OUTBOX_SENT_RETENTION_DAYS: {
    schema: integer(7, 1, 3650),
    doc: 'Delivered outbox messages (bodies already emptied at delivery) are purged this many days after delivery. Undelivered ones stay.',
  },
  JOB_DONE_RETENTION_DAYS: {
    schema: integer(1, 1, 3650),
    doc: 'Finished queue jobs are purged this many days after they finished (embedded queue rows; BullMQ `removeOnComplete`).',
  },
  JOB_FAILED_RETENTION_DAYS: {
    schema: integer(7, 1, 3650),
    doc: 'Failed queue jobs (attempts used up) are purged this many days after they failed (embedded queue rows; BullMQ `removeOnFail`).',
  },
  QUEUE_LOCK_MS: {
    schema: integer(30_000, 1_000, 3_600_000),
    doc: "How long a worker holds a job without renewing it (renewed while it runs). A worker that dies (kill -9, lost host) gives its job back this long after its last renewal: shorter means faster recovery, but a worker whose event loop stalls longer than this loses its job to another. Both queues (the embedded queue's lease, BullMQ's lock).",
  },
  QUEUE_STALLED_INTERVAL_MS: {
    schema: integer(30_000, 500, 3_600_000),
    doc: 'BullMQ only: how often workers look for jobs whose lock lapsed and re-run them. Worst-case recovery after a worker dies is about QUEUE_LOCK_MS + QUEUE_STALLED_INTERVAL_MS (e.g. 8000 + 4000: within about 12 s). The embedded queue looks on every poll (500 ms).',
  },
  SHUTDOWN_TIMEOUT_MS: {
    schema: integer(30_000, 0, 3_600_000),
    doc: 'On SIGTERM, how long in-flight jobs may finish before they are handed back to the queue.',
  },
  SESSION_IDLE_MINUTES: {
    schema: integer(30, 1, 24 * 60),
    doc: 'A signed-in session ends after this many minutes without a request (checked server-side on every request).',
  },
  SESSION_ABSOLUTE_HOURS: {
    schema: integer(12, 1, 30 * 24),
    doc: 'A signed-in session ends this many hours after login, however active it is.',
  },
  PASSWORD_HASH_CONCURRENCY: {
    schema: integer(2, 1, 64),
    doc: 'Password hashes (argon2id, 19 MiB each) computed at once per process; further logins wait their turn.',
  },
  FFMPEG_PATH: {
    schema: optionalString,
    doc: 'ffmpeg binary. Unset: `ffmpeg` on PATH, else the binary shipped by @ffmpeg-installer.',
  },
  FFPROBE_PATH: {
    schema: optionalString,
    doc: 'ffprobe binary. Unset: `ffprobe` on PATH, else the binary shipped by @ffprobe-installer.',
  },
  MAX_VIDEO_PIXELS: {
    schema: integer(8192 * 4320, 1, 2 ** 31 - 1),
    doc: "Largest coded video frame (width × height, read from the stream's own parameter sets, not the container) accepted; larger is refused with 422 `media-dimensions-too-large` before any decoder allocates a frame. Default fits 8K (8192×4320).",
  },
  MAX_IMAGE_PIXELS: {
    schema: integer(100_000_000, 1, 2 ** 31 - 1),
    doc: 'Largest still image (width × height from the PNG/JPEG/GIF/WebP/BMP header) accepted; larger is refused with 422 `media-dimensions-too-large` before decoding. Default fits 100-megapixel photos.',
  },
  MAX_MEDIA_DIMENSION: {
    schema: integer(16_384, 1, 65_535),
    doc: 'Longest side in pixels of any video frame or image accepted (422 `media-dimensions-too-large` beyond it).',
  },
  MEDIA_TOOL_MEMORY_MB: {
    schema: integer(2048, 64, 1024 * 1024),
    doc: 'Address-space cap in MiB of every ffmpeg/ffprobe child, applied with util-linux `prlimit --as` when /usr/bin/prlimit exists (a log line says so once when it cannot be applied).',
  },
  MEDIA_TOOL_TIMEOUT_SECONDS: {
    schema: integer(600, 1, 86_400),
    doc: 'Wall-clock cap in seconds of one ffmpeg/ffprobe run, besides the idle timeouts; the run is killed beyond it.',
  },
  INTAKE_CHECK_SECONDS: {
    schema: integer(30, 1, 3600),
    doc: 'Wall-clock budget in seconds of the decode spot-check (first, middle and last present keyframes) run on every media at upload and before analysis.',
  },
  MODEL_CARDS: {
    schema: z
      .string()
      .trim()
      .optional()
      .transform((value) => {
        const paths = (value ?? '')
          .split(',')
          .map((path) => path.trim())
          .filter(Boolean);
        return paths.length > 0 ? paths : undefined;
      }),
    doc: "Comma-separated paths of model cards (JSON, see docs/models.md): the organisation's own ONNX classifiers, each run as detector `model:<name>`. At start-up (`serve`, `worker`, `analyze`) each model file's sha256 and reference outputs are checked against its card; a card that fails stops start-up (exit code 2) naming the card and the reason. Unset: no model runs.",
  },
  CALIBRATION_FILE: {
    schema: optionalString,
    doc: "Calibration file written by `guardian calibrate`: detector scores on authentic media (and optionally labelled manipulated media). Each detector entry of a report gains `percentile` (its score is higher than that share of the authentic reference) and, with labelled data, `probability`; `versions.calibration` records the file's sha256 and path. Unset: the project's default reference shipped in the package (`calibration/default-reference.json`: synthetic authentic media generated by this project, not camera footage; percentiles only, `versions.calibration.projectDefault` is true). `none`: no percentile or probability is shown (a file named `none`: `./none`). Read by `serve`, `worker` and `analyze`; `eval` and `calibrate` always measure raw scores.",
  },
  FEATURE_FLAG_CACHE_MS: {
    schema: integer(5000, 0, 300_000),
    doc: 'How long each process (API server, worker, CLI) keeps its snapshot of the feature flag tables before reading them again. A change made through one process applies there at once and on every other process within this long (read-through cache, no restart). 0: read on every evaluation. See docs/feature-flags.md.',
  },
  FEATURE_FLAG_ADMIN_ORGS: {
    schema: z
      .string()
      .trim()
      .optional()
      .transform((value) =>
        (value ?? '')
          .split(',')
          .map((id) => id.trim().toLowerCase())
          .filter(Boolean),
      )
      .pipe(z.array(z.uuid())),
    doc: "Comma-separated organisation ids whose admins may manage feature flags through the API (`/api/v1/feature-flags`). Flags apply to the whole deployment, so an organisation's admin role alone is not enough. Unset: only `guardian flags` on the host manages them.",
  },
  TLS_CERT_FILE: {
    schema: optionalString,
    doc: 'PEM certificate chain; with TLS_KEY_FILE the server speaks HTTPS.',
  },
  TLS_KEY_FILE: { schema: optionalString, doc: 'PEM private key for TLS_CERT_FILE.' },
  HTTP_REDIRECT_PORT: {
    schema: z.coerce.number().int().min(1).max(65535).optional(),
    doc: 'With TLS: also listen for plain HTTP on this port and redirect every request to HTTPS (e.g. 80).',
  },
  METRICS_PORT: {
    schema: z.union([z.literal('off'), z.coerce.number().int().min(0).max(65535)]).default(9464),
    doc: 'Port of the Prometheus `/metrics` listener, apart from the API port; `serve` and `worker` each open one (a host running both gives the worker another port, e.g. 9465). 0 picks a free port; `off` opens none. See docs/operations.md.',
  },
  METRICS_HOST: {
    schema: z.string().min(1).default('127.0.0.1'),
    doc: 'Address the `/metrics` listener binds to. Loopback by default: metrics carry no secrets but describe the system, so expose them only to your Prometheus (e.g. a private interface).',
  },
  HTTP_HEADERS_TIMEOUT_MS: {
    schema: integer(30_000, 1_000, 600_000),
    doc: 'A client must send its request line and headers within this many milliseconds of connecting (or of its previous request); otherwise 408 `request-timeout` and the connection is closed (slow-header attacks).',
  },
  HTTP_BODY_TIMEOUT_MS: {
    schema: integer(30_000, 1_000, 3_600_000),
    doc: 'A request body the server parses (JSON, at most 1 MiB, 16 MiB for /api/v1/verify) must arrive within this many milliseconds of its headers; otherwise 408 `request-timeout` and the connection is closed. Uploads (multipart, tus chunks) are bounded by HTTP_REQUEST_TIMEOUT_MS instead.',
  },
  HTTP_REQUEST_TIMEOUT_MS: {
    schema: integer(3_600_000, 1_000, 24 * 3_600_000),
    doc: 'Any request, a streamed upload included, must arrive whole within this many milliseconds; otherwise 408 and the connection is closed. A multipart upload that needs longer must use resumable (tus) uploads, whose chunks are requests of their own.',
  },
  WEBSOCKET_MAX_PER_PRINCIPAL: {
    schema: integer(20, 1, 10_000),
    doc: 'Open `/api/v1/events` WebSockets per API key or signed-in person; one more is refused with 429 `too-many-websockets` before the upgrade.',
  },
  WEBSOCKET_MAX_CONNECTIONS: {
    schema: integer(2_000, 1, 1_000_000),
    doc: 'Open `/api/v1/events` WebSockets per server process; one more is refused with 503 `websocket-capacity`.',
  },
  WEBSOCKET_PING_INTERVAL_SECONDS: {
    schema: integer(30, 1, 3_600),
    doc: 'The server pings each WebSocket this often and closes one that did not answer the previous ping (a vanished client frees its slot; pings also keep proxies from timing the socket out).',
  },
  TRUSTED_PROXIES: {
    schema: optionalString,
    doc: 'Comma-separated proxy addresses/CIDRs whose X-Forwarded-* headers are trusted. Unset: none.',
  },
  RATE_LIMIT_PER_MINUTE: {
    schema: integer(600, 1, 1_000_000),
    doc: 'Requests a minute per API key or signed-in person (per client address before authentication), on every route. Raise it only for a trusted load or security test on loopback (test/resilience/sqlmap-injection.test.ts); see docs/reliability.md.',
  },
  AUTH_RATE_LIMIT_PER_MINUTE: {
    schema: integer(20, 1, 1_000_000),
    doc: 'Requests a minute per client address to each route under `/api/v1/auth/`. The per-account sign-in throttle (backoff, lock, hourly limit) is not configurable.',
  },
  REFUSED_CREDENTIALS_PER_MINUTE: {
    schema: integer(60, 1, 1_000_000),
    doc: 'Requests a minute per client address that presented credentials and got 401; past it, every request presenting credentials from that address gets 429.',
  },
  LOGIN_ATTEMPTS_PER_IP: {
    schema: integer(20, 1, 1_000_000),
    doc: 'Password and second-factor attempts per client address (IPv6: per /64) in 5 minutes, across accounts.',
  },
  WEBHOOK_ALLOWED_NETWORKS: {
    schema: optionalString,
    doc: 'Comma-separated CIDRs (or single addresses) that webhook endpoints may resolve to although they are not public, e.g. `10.20.0.0/16,fd12:3456::/48` for an internal receiver, or `127.0.0.1/32` on a test host. Checked after DNS resolution, at creation and before every delivery; an IPv4-mapped IPv6 address counts as its IPv4 address. Unset: only public unicast addresses; loopback, private (RFC 1918, fc00::/7), link-local (incl. cloud metadata 169.254.169.254), CGNAT, multicast, documentation and reserved ranges are refused (docs/webhooks.md). Unspecified, multicast and broadcast addresses are refused whatever this says.',
  },
  WEBHOOK_ALLOW_HTTP: {
    schema: booleanFlag(),
    doc: 'Allow plain `http://` webhook endpoints (air-gapped networks, tests). Default false: `https://` only, with the certificate verified.',
  },
  WEBHOOK_MAX_ATTEMPTS: {
    schema: integer(8, 1, 8),
    doc: 'Attempts per webhook delivery, on the schedule immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (each ±10 % jitter); this takes the first that many. A 2xx answer is success; anything else, a timeout or a refused destination is retried.',
  },
  WEBHOOK_TIMEOUT_SECONDS: {
    schema: integer(10, 1, 60),
    doc: 'A webhook attempt that has no complete answer within this many seconds fails (and is retried).',
  },
  WEBHOOK_DISABLE_AFTER_FAILURES: {
    schema: integer(20, 0, 10_000),
    doc: 'Disable a webhook endpoint after this many deliveries in a row failed for good (all attempts used); an admin enables it again. 0: never.',
  },
  SMTP_URL: {
    schema: optionalString,
    secret: true,
    doc: 'SMTP server for outgoing mail (password reset, invitations), e.g. `smtps://user:pass@mail.example.org:465`; a non-loopback `smtp://` server must offer STARTTLS. Unset: messages are kept in the outbox table; the operator reads them in full with `guardian outbox list` on the host, admins see them with their links redacted (`GET /api/v1/outbox`) and get an invitation link in the reply to `POST /api/v1/users/invites`.',
  },
  MAIL_FROM: {
    schema: optionalString,
    doc: 'Sender of outgoing mail, e.g. `SecureAI Guardian <guardian@example.org>`. Unset: `guardian@` the PUBLIC_URL host; production with SMTP_URL requires it.',
  },
  PUBLIC_URL: {
    schema: httpUrl(),
    doc: 'Base URL of this deployment as users reach it, used in links sent by mail and in the verify link and QR code of PDF reports (`PUBLIC_URL/verify?leaf=…&statement=…`). Unset: mail links use http://HOST:PORT, and PDF reports carry no verify link (they say so). Production with SMTP_URL requires an https URL.',
  },
  ASSET_BASE_URL: {
    schema: httpUrl(),
    doc: "Where browsers fetch the web app's hashed assets (`/assets/...`), e.g. a CDN that mirrors `dist/web/assets`. The HTML still comes from this server, and the CSP admits that origin for scripts, styles, images and fonts. Unset: this server.",
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    schema: httpUrl(),
    doc: 'OpenTelemetry: base URL of an OTLP/HTTP receiver (a collector), e.g. `http://otel-collector:4318`; spans go to `/v1/traces` under it as OTLP/HTTP JSON. Set: each process traces HTTP requests, job enqueues, job runs and detector runs (docs/observability-tracing.md). Unset: no tracing SDK starts.',
  },
  OTEL_EXPORTER_OTLP_HEADERS: {
    schema: optionalString,
    secret: true,
    doc: 'OpenTelemetry: headers sent with every export, `key1=value1,key2=value2` (values URL-encoded, as the OpenTelemetry specification says), e.g. an `authorization` for a hosted backend.',
  },
  OTEL_EXPORTER_OTLP_PROTOCOL: {
    schema: z.enum(['http/json']).optional(),
    doc: 'OpenTelemetry: export protocol. Only `http/json` (OTLP/HTTP with JSON bodies, which every OTLP/HTTP receiver accepts) is built in; any other value refuses to start rather than export to nowhere.',
  },
  OTEL_SERVICE_NAME: {
    schema: z.string().trim().min(1).max(128).default('secureai-guardian'),
    doc: 'OpenTelemetry: `service.name` of the spans this process exports (serve and worker share it; OTEL_RESOURCE_ATTRIBUTES adds more). Standard OTel settings the SDK reads itself, such as OTEL_BSP_SCHEDULE_DELAY and OTEL_TRACES_SAMPLER, apply too.',
  },
  SENTRY_DSN: {
    schema: optionalString,
    secret: true,
    doc: 'Sentry: the project DSN. Set: server errors (5xx answers) and jobs that used up their attempts are sent to Sentry with secrets scrubbed (no cookies, authorization headers, query strings or configured secret values). Unset: nothing is sent.',
  },
  SENTRY_ENVIRONMENT: {
    schema: optionalString,
    doc: 'Sentry: the environment events are filed under. Unset: NODE_ENV.',
  },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    doc: 'pino log level.',
  },
} as const satisfies Record<string, { schema: z.ZodType; doc: string; secret?: boolean }>;

export type ConfigName = keyof typeof configFields;

export const configSchema = z.object(
  Object.fromEntries(Object.entries(configFields).map(([name, field]) => [name, field.schema])) as {
    [K in ConfigName]: (typeof configFields)[K]['schema'];
  },
);

export type Config = z.infer<typeof configSchema>;
