import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError } from '../../services/errors.js';
import { errorResponses, problemSchema } from '../schemas.js';

export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

const checkTimeoutMs = 3_000;

export const healthRoutes: FastifyPluginAsyncZod<{ checks: HealthCheck[] }> = async (app, deps) => {
  app.get(
    '/livez',
    {
      config: { access: 'public' },
      schema: {
        summary: 'The process is up',
        tags: ['health'],
        response: { 200: z.object({ status: z.literal('ok') }), 429: problemSchema },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Database, queue and storage answer (503 otherwise)',
        tags: ['health'],
        response: {
          200: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.literal('ok')) }),
          ...errorResponses,
        },
      },
    },
    async () => {
      const results = await Promise.all(
        deps.checks.map(async ({ name, check }) => ({ name, error: await runCheck(check) })),
      );
      const failed = results.filter((result) => result.error !== null);
      if (failed.length > 0) {
        throw new AppError(
          503,
          'not-ready',
          'Not ready',
          `failing: ${failed.map((result) => result.name).join(', ')}`,
          {
            checks: Object.fromEntries(
              results.map((result) => [result.name, result.error === null ? 'ok' : 'failing']),
            ),
          },
        );
      }
      return {
        status: 'ready' as const,
        checks: Object.fromEntries(results.map((result) => [result.name, 'ok' as const])),
      };
    },
  );
};

async function runCheck(check: () => Promise<void>): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), checkTimeoutMs);
      }),
    ]);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}
