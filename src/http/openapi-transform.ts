import type { SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';
import './event-messages.js';
import { problemSchema } from './schemas.js';

/**
 * Route schemas (zod) to OpenAPI operations; each operation gets an operationId derived from its method and
 * path (`GET /api/v1/analyses/{id}` → `getAnalysesById`) unless the route names one.
 */
export const openApiTransform: SwaggerTransform = (input) => {
  const { schema, url } = jsonSchemaTransform(input as Parameters<typeof jsonSchemaTransform>[0]);
  if (!schema || schema.hide) return { schema, url };
  const method = [input.route.method].flat()[0] ?? 'GET';
  const declared = (input.schema.response ?? {}) as Record<string, unknown>;
  const response = Object.fromEntries(
    Object.entries((schema.response ?? {}) as Record<string, unknown>).map(([status, documented]) => [
      status,
      declared[status] === problemSchema ? problemResponse(status) : documented,
    ]),
  );
  return { schema: { operationId: operationIdOf(method, input.url), ...schema, response }, url };
};

const problemStatusTitles: Record<string, string> = {
  400: 'Bad request: the problem says what (e.g. `validation-failed`)',
  401: 'Not authenticated (`unauthenticated`)',
  403: 'Not allowed (`forbidden`, `csrf-failed`, …)',
  404: 'Not found, or not the caller’s organisation’s (`not-found`)',
  409: 'Conflict with the resource’s state',
  410: 'Gone (expired)',
  412: 'Precondition failed',
  413: 'Too large (`upload-too-large`, `payload-too-large`)',
  415: 'Unsupported media or content type',
  422: 'Well-formed but unprocessable (e.g. `media-unreadable`, `empty-file`)',
  423: 'Locked: retry shortly',
  426: 'Upgrade required',
  429: 'Too many requests (`rate-limited`; see Retry-After)',
  500: 'Internal error (logged; no details leave the server)',
  503: 'Not ready (`not-ready`), or a backing service cannot be reached (`service-unavailable`; see Retry-After)',
};

/** Every error is RFC 9457 problem+json: one shared schema, under its own media type. */
function problemResponse(status: string) {
  return {
    description: problemStatusTitles[status] ?? 'Problem',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

/** The document as a whole: schemas with an id (the WebSocket messages) go into components.schemas, once each. */
export const openApiTransformObject: SwaggerTransformObject = (documentObject) => {
  if (!('openapiObject' in documentObject)) throw new Error('the document is OpenAPI 3, never Swagger 2');
  const { openapiObject } = documentObject;
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const { $schema: _dialect, ...problem } = z.toJSONSchema(problemSchema, { target: 'draft-2020-12' });
  const messages = Object.fromEntries(
    Object.entries({ ...schemas, Problem: problem }).map(([id, { $schema: _, id: _id, ...schema }]) => [
      id,
      schema,
    ]),
  );
  return {
    ...openapiObject,
    components: {
      ...openapiObject.components,
      schemas: { ...openapiObject.components?.schemas, ...messages },
    },
  } as ReturnType<SwaggerTransformObject>;
};

export function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/api\/v\d+/, '')
    .split('/')
    .filter(Boolean)
    .map((segment) => (segment.startsWith(':') ? `by-${segment.slice(1)}` : segment))
    .flatMap((segment) => segment.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  const named = words.length > 0 ? words : ['root'];
  return [method.toLowerCase(), ...named.map((word) => word[0]?.toUpperCase() + word.slice(1))].join('');
}
