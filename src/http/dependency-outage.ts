import { AppError } from '../services/errors.js';

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

/**
 * True when an error (or anything in its cause chain) says a backing service is unreachable. Such requests are
 * answered 503 with Retry-After instead of 500: the client did nothing wrong and may retry.
 */
export function isDependencyOutage(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string' && (networkCodes.has(code) || postgresCodes.test(code))) return true;
  if (typeof message === 'string' && outageMessages.test(message)) return true;
  if (Array.isArray(errors) && errors.some((inner) => isDependencyOutage(inner, depth + 1))) return true;
  return isDependencyOutage(cause, depth + 1);
}

export const dependencyUnavailable = () =>
  new AppError(
    503,
    'service-unavailable',
    'Service unavailable',
    'a service the platform depends on cannot be reached; retry later',
    { retryAfterSeconds },
  );
