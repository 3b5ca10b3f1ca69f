import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problemSchema } from '../schemas.js';

/** What a person or scanner finds at `/`: where the API lives. The web app will take this place. */
export const rootRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Service name and where the API is',
        tags: ['health'],
        response: {
          200: z.object({ service: z.string(), api: z.string(), health: z.string() }),
          429: problemSchema,
        },
      },
    },
    async () => ({ service: 'SecureAI Guardian', api: '/api/v1', health: '/readyz' }),
  );
};
