import { AppError } from './errors.js';

/** Seconds a client is told to wait when the database, Redis or object store cannot be reached. */
const retryAfterSeconds = 5;

// Socket-level failures reaching a dependency (PostgreSQL, Redis, S3): the request was fine, the platform was not.
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
// PostgreSQL SQLSTATEs for a server that is shutting down, starting, or refusing connections (class 08, 57P0x, 53300).
const postgresCodes = /^(08\d{3}|57P0[1-4]|53300)$/;
// What pg and ioredis/BullMQ throw when their connection is gone, without a code.
const outageMessages = new RegExp(
  '^(Connection terminated|Client has encountered a connection error|Client was closed|' +
    'timeout exceeded when trying to connect|Connection is closed|Reached the max retries per request limit|' +
    "Stream isn't writeable)",
);

/** Each error in a cause chain (and in an AggregateError's list), bounded in depth. */
function* chain(error: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (depth > 5 || typeof error !== 'object' || error === null) return;
  const record = error as Record<string, unknown>;
  yield record;
  if (Array.isArray(record.errors)) for (const inner of record.errors) yield* chain(inner, depth + 1);
  yield* chain(record.cause, depth + 1);
}

/**
 * True when an error (or anything in its cause chain) says a backing service is unreachable. Such requests are
 * answered 503 with Retry-After instead of 500: the client did nothing wrong and may retry.
 */
export function isDependencyOutage(error: unknown): boolean {
  for (const { code, message } of chain(error)) {
    if (typeof code === 'string' && (networkCodes.has(code) || postgresCodes.test(code))) return true;
    if (typeof message === 'string' && outageMessages.test(message)) return true;
  }
  return false;
}

/** True when a write failed because the file system (DATA_DIR, the upload staging area) is full or over quota. */
export function isStorageFull(error: unknown): boolean {
  for (const { code } of chain(error)) if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  return false;
}

/** The error a request gets for an outage or a full disk, or null when the error is neither. */
export function infrastructureProblem(error: unknown): AppError | null {
  if (isStorageFull(error)) return insufficientStorage();
  if (isDependencyOutage(error)) return dependencyUnavailable();
  return null;
}

export const insufficientStorage = () =>
  new AppError(
    507,
    'insufficient-storage',
    'Insufficient storage',
    'the server has no space left to store this; nothing of it was kept. Retry later',
  );

export const dependencyUnavailable = () =>
  new AppError(
    503,
    'service-unavailable',
    'Service unavailable',
    'a service the platform depends on cannot be reached; retry later',
    { retryAfterSeconds },
  );
