import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderOpenApi } from '../../src/http/openapi.js';

describe('openapi.json', () => {
  it('matches the route schemas (run `npm run openapi` after changing a route)', async () => {
    const committed = readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8');
    expect(committed).toBe(await renderOpenApi());
  });

  it('documents the public contract', async () => {
    const document = JSON.parse(await renderOpenApi()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/livez',
        '/readyz',
        '/api/v1/media',
        '/api/v1/media/{id}',
        '/api/v1/analyses/{id}',
      ]),
    );
  });
});
