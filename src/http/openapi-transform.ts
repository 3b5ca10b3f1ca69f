import type { SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';
import './event-messages.js';

/**
 * Route schemas (zod) to OpenAPI operations; each operation gets an operationId derived from its method and
 * path (`GET /api/v1/analyses/{id}` → `getAnalysesById`) unless the route names one.
 */
export const openApiTransform: SwaggerTransform = (input) => {
  const { schema, url } = jsonSchemaTransform(input as Parameters<typeof jsonSchemaTransform>[0]);
  if (!schema || schema.hide) return { schema, url };
  const method = [input.route.method].flat()[0] ?? 'GET';
  return { schema: { operationId: operationIdOf(method, input.url), ...schema }, url };
};

/** The document as a whole: schemas with an id (the WebSocket messages) go into components.schemas, once each. */
export const openApiTransformObject: SwaggerTransformObject = (documentObject) => {
  if (!('openapiObject' in documentObject)) throw new Error('the document is OpenAPI 3, never Swagger 2');
  const { openapiObject } = documentObject;
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const messages = Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _dialect, id: _id, ...schema }]) => [id, schema]),
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
