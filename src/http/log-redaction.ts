import type { FastifyRequest } from 'fastify';

const secretQueryParameter = /([?&]sig=)[^&#]*/gi;
const shareTokenPath = /(\/(?:api\/v1\/shared-reports|shared)\/)[^/?#]+/gi;

/** The URL as logged: a signed link's `sig` and a share token in the path become `[redacted]`. */
export function redactUrl(url: string): string {
  return url.replace(secretQueryParameter, '$1[redacted]').replace(shareTokenPath, '$1[redacted]');
}

/** Fastify's request serializer with the URL redacted (what `incoming request` log lines carry). */
export function redactedRequestSerializer(request: FastifyRequest) {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
