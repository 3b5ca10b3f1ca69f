import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import { requirePrincipal, writers, type Principal } from '../access-control.js';

export interface ResumableUploadHandler {
  /** Serves one tus request for an authenticated principal (the response is written to `res`). */
  handle(request: IncomingMessage, response: ServerResponse, principal: Principal): Promise<void>;
  /** Deletes staged uploads past their expiry; resolves with how many. */
  cleanUpExpired(): Promise<number>;
}

export interface UploadsRoutesDeps {
  handler: ResumableUploadHandler;
}

const tusMethods = ['POST', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** tus 1.0 resumable uploads at /api/v1/uploads; Fastify authenticates, @tus/server speaks the protocol. */
export const uploadsRoutes: FastifyPluginAsync<UploadsRoutesDeps> = async (app, deps) => {
  // tus bodies are raw bytes streamed by @tus/server itself: Fastify must not parse them.
  app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));
  for (const url of ['/api/v1/uploads', '/api/v1/uploads/:uploadId']) {
    app.route({
      method: [...tusMethods],
      url,
      config: { access: writers },
      schema: { hide: true },
      handler: async (request, reply) => {
        const principal = requirePrincipal(request);
        reply.hijack();
        for (const [name, value] of Object.entries(reply.getHeaders())) {
          if (value !== undefined) reply.raw.setHeader(name, value as string);
        }
        await deps.handler.handle(request.raw, reply.raw, principal);
      },
    });
  }
};
