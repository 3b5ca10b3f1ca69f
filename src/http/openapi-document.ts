export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'SecureAI Guardian API',
    version: '1',
    description:
      'Media-forensics analysis with explainable detectors. Errors are RFC 9457 problem+json with a stable `code`.',
  },
  components: {
    securitySchemes: {
      apiKey: {
        type: 'http' as const,
        scheme: 'bearer',
        description: 'API key from `guardian apikey create`',
      },
    },
  },
  security: [{ apiKey: [] }],
};
