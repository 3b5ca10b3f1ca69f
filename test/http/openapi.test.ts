import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lintOpenApi } from '../../scripts/lint-openapi.js';
import { renderOpenApi } from '../../src/http/openapi.js';

interface Operation {
  operationId?: string;
  parameters?: { name: string; in: string }[];
  responses: Record<
    string,
    { headers?: Record<string, unknown>; content?: Record<string, { schema: unknown }> }
  >;
}
interface Document {
  openapi: string;
  info: { license?: { identifier?: string } };
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { oneOf?: unknown[]; anyOf?: unknown[] }> };
}

const document = JSON.parse(await renderOpenApi()) as Document;
const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({
    label: `${method.toUpperCase()} ${path}`,
    operation,
  })),
);

describe('openapi.json', () => {
  it('matches the route schemas (run `npm run openapi` after changing a route)', async () => {
    const committed = readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8');
    expect(committed).toBe(await renderOpenApi());
  });

  it('documents the public contract', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/livez',
        '/readyz',
        '/api/v1/media',
        '/api/v1/media/{id}',
        '/api/v1/analyses/{id}',
        '/api/v1/analyses/{id}/artifacts',
        '/api/v1/analyses/{id}/artifacts/{detector}/{name}',
        '/api/v1/events',
        '/api/v1/uploads',
        '/api/v1/uploads/{uploadId}',
      ]),
    );
    expect(document.servers?.length).toBeGreaterThan(0);
    expect(document.info.license?.identifier).toBe('AGPL-3.0-only');
  });

  it('gives every operation a unique operationId', () => {
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(ids.filter((id) => !id)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents the tus endpoints with their headers, the last PATCH answering 204 with the media ids', () => {
    expect(Object.keys(document.paths['/api/v1/uploads'] ?? {}).sort()).toEqual(['options', 'post']);
    expect(Object.keys(document.paths['/api/v1/uploads/{uploadId}'] ?? {}).sort()).toEqual([
      'delete',
      'get',
      'head',
      'options',
      'patch',
    ]);
    const upload = document.paths['/api/v1/uploads/{uploadId}']!;
    expect(upload.patch?.parameters?.map((parameter) => parameter.name)).toEqual(
      expect.arrayContaining(['tus-resumable', 'upload-offset']),
    );
    expect(Object.keys(upload.patch?.responses['204']?.headers ?? {})).toEqual(
      expect.arrayContaining(['Upload-Offset', 'Guardian-Media-Id', 'Guardian-Analysis-Id']),
    );
    expect(upload.patch?.responses['200']).toBeUndefined();
    expect(Object.keys(upload.head?.responses['200']?.headers ?? {})).toEqual(
      expect.arrayContaining(['Upload-Offset', 'Upload-Length', 'Guardian-Media-Id']),
    );
    expect(document.paths['/api/v1/uploads']?.post?.parameters?.map((parameter) => parameter.name)).toEqual(
      expect.arrayContaining(['upload-length', 'upload-metadata']),
    );
  });

  it('documents the WebSocket and each message it sends', () => {
    const events = document.paths['/api/v1/events']?.get;
    expect(events?.responses['101']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/EventsServerMessage',
    });
    expect(events?.responses['426']).toBeDefined();
    const union = document.components.schemas.EventsServerMessage;
    const members = JSON.stringify(union?.oneOf ?? union?.anyOf);
    for (const message of [
      'EventsSubscribedMessage',
      'EventsAnalysisStateMessage',
      'EventsAnalysisEventMessage',
      'EventsErrorMessage',
    ]) {
      expect(document.components.schemas[message], message).toBeDefined();
      expect(members).toContain(`#/components/schemas/${message}`);
    }
  });

  it('documents errors as problem+json', () => {
    const problem = document.paths['/api/v1/analyses/{id}']?.get?.responses['404'];
    expect(problem?.content?.['application/problem+json']?.schema).toEqual({
      $ref: '#/components/schemas/Problem',
    });
  });

  it('passes Redocly lint (recommended ruleset, redocly.yaml) with no error and no warning', async () => {
    const { totals, problems } = await lintOpenApi();
    expect(problems).toEqual([]);
    expect(totals).toMatchObject({ errors: 0, warnings: 0 });
    // The one justified exemption (.redocly.lint-ignore.yaml): the WebSocket answers 101, not 2xx.
    expect(totals.ignored).toBeLessThanOrEqual(1);
  });
});
