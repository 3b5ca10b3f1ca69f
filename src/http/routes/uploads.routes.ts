import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import { requirePrincipal, writers, type Principal } from '../access-control.js';

export interface ResumableUploadHandler {
  /** Serves one tus request for an authenticated principal (the response is written to `res`). */
  handle(request: IncomingMessage, response: ServerResponse, principal: Principal): Promise<void>;
  /** Throws 404 unless the upload exists and belongs to the principal's organisation. */
  assertOwnUpload(uploadId: string, principal: Principal): Promise<void>;
  /** Deletes staged uploads past their expiry; resolves with how many. */
  cleanUpExpired(): Promise<number>;
}

export interface UploadsRoutesDeps {
  handler: ResumableUploadHandler;
}

// Creation on the collection; offset, append and termination on one upload.
const routes = [
  { url: '/api/v1/uploads', methods: ['POST', 'OPTIONS'] },
  { url: '/api/v1/uploads/:uploadId', methods: ['HEAD', 'PATCH', 'DELETE', 'OPTIONS'] },
] as const;

/** tus 1.0 resumable uploads at /api/v1/uploads; Fastify authenticates, @tus/server speaks the protocol. */
export const uploadsRoutes: FastifyPluginAsync<UploadsRoutesDeps> = async (app, deps) => {
  // tus bodies are raw bytes streamed by @tus/server itself: Fastify must not parse them.
  app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));
  for (const { url, methods } of routes) {
    app.route({
      method: [...methods],
      url,
      config: { access: writers },
      schema: { hide: true },
      handler: async (request, reply) => {
        const principal = requirePrincipal(request);
        const { uploadId } = request.params as { uploadId?: string };
        // Checked before handing over to tus so a foreign or unknown upload gets problem+json like every route.
        if (uploadId && request.method !== 'OPTIONS') await deps.handler.assertOwnUpload(uploadId, principal);
        reply.hijack();
        for (const [name, value] of Object.entries(reply.getHeaders())) {
          if (value !== undefined) reply.raw.setHeader(name, value as string);
        }
        await deps.handler.handle(request.raw, reply.raw, principal);
      },
    });
  }
};
