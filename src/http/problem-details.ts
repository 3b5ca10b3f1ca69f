import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError } from '../services/errors.js';
import { infrastructureProblem } from '../services/infrastructure-errors.js';
import { BlobIntegrityError } from '../storage/segmented-aead.js';

export const problemTypeBase = 'https://secureai-guardian.dev/problems/';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export function problemBody(error: AppError, instance?: string): ProblemBody {
  return {
    type: `${problemTypeBase}${error.code}`,
    title: error.title,
    status: error.status,
    code: error.code,
    ...(error.detail ? { detail: error.detail } : {}),
    ...(instance ? { instance } : {}),
    ...error.extra,
  };
}

export function sendProblem(reply: FastifyReply, error: AppError): FastifyReply {
  // Throttled answers (429) tell the client when to come back.
  if (typeof error.extra?.retryAfterSeconds === 'number')
    reply.header('retry-after', String(error.extra.retryAfterSeconds));
  return reply
    .status(error.status)
    .type('application/problem+json')
    .send(problemBody(error, reply.request.id ? `urn:request:${reply.request.id}` : undefined));
}

/** Maps every error to RFC 9457 problem+json; nothing from a stack trace reaches the client. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  // Wherever stored bytes fail authentication, the answer names it: never a bare internal-error.
  if (error instanceof BlobIntegrityError)
    return new AppError(
      500,
      'blob-integrity',
      'Stored data failed its integrity check',
      'data stored on the server is damaged or was tampered with; it was not served',
    );
  const fastifyError = error as FastifyError & { validation?: unknown };
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((issue) => ({
      path: issue.instancePath || '/',
      message: issue.message ?? 'invalid',
    }));
    return new AppError(400, 'validation-failed', 'Request validation failed', describe(issues), { issues });
  }
  if (fastifyError.validation) {
    return new AppError(400, 'validation-failed', 'Request validation failed', fastifyError.message);
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError(
        413,
        'payload-too-large',
        'Payload too large',
        'the request body exceeds the limit',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(415, 'unsupported-content-type', 'Unsupported content type', fastifyError.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError(400, 'invalid-json', 'Invalid JSON body', 'the body is not valid JSON');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError(415, 'multipart-required', 'multipart/form-data required', fastifyError.message);
  }
  const status = fastifyError.statusCode;
  const infrastructure = status ? null : infrastructureProblem(error);
  if (infrastructure) return infrastructure;
  if (status === 429) return new AppError(429, 'rate-limited', 'Too many requests', fastifyError.message);
  if (status && status >= 400 && status < 500) {
    return new AppError(status, 'bad-request', 'Bad request', fastifyError.message);
  }
  return new AppError(
    500,
    'internal-error',
    'Internal server error',
    'an unexpected error occurred; it was logged',
  );
}

function describe(issues: { path: string; message: string }[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error);
    if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: appError.code, status: appError.status }, 'request rejected');
    return sendProblem(reply, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new AppError(
        404,
        'route-not-found',
        'Not found',
        `no route for ${request.method} ${request.url.split('?')[0]}`,
      ),
    ),
  );
}
