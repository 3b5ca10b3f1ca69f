export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'SecureAI Guardian API',
    version: '1',
    description:
      'Media-forensics analysis with explainable detectors. Errors are RFC 9457 problem+json with a stable `code`.',
    license: { name: 'AGPL-3.0-only', identifier: 'AGPL-3.0-only' },
  },
  // Self-hosted: the API is served by the same server as this document, wherever that runs.
  servers: [{ url: '/', description: 'the server that serves this document' }],
  components: {
    securitySchemes: {
      apiKey: {
        type: 'http' as const,
        scheme: 'bearer',
        description: 'API key from `guardian apikey create`',
      },
      sessionCookie: {
        type: 'apiKey' as const,
        in: 'cookie' as const,
        name: '__Host-guardian_session',
        description:
          'Session from `POST /api/v1/auth/login` (`guardian_session` over plain http on loopback in development). POST/PUT/PATCH/DELETE with it also need `X-CSRF-Token` and a same-origin `Origin`.',
      },
    },
  },
  security: [{ apiKey: [] }, { sessionCookie: [] }] as Record<string, string[]>[],
};
