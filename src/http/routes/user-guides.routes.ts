import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

/** The guides the help page links to, read from the installed package's docs/ (same depth from src and dist). */
const docsDir = new URL('../../../docs/', import.meta.url);
const guides = ['user-guide.md', 'verification.md', 'detectors.md'] as const;

/** The user-facing guides as plain text, on any deployment and offline: a fixed list, nothing from the path. */
export const userGuidesRoutes: FastifyPluginAsync = async (app) => {
  for (const guide of guides) {
    app.get(
      `/docs/${guide}`,
      { config: { access: 'public' }, schema: { hide: true } },
      async (_request, reply) => {
        const text = await readFile(fileURLToPath(new URL(guide, docsDir)), 'utf8');
        return reply
          .type('text/plain; charset=utf-8')
          .header('cache-control', 'no-cache')
          .header('content-disposition', `inline; filename="${guide}"`)
          .send(text);
      },
    );
  }
};
