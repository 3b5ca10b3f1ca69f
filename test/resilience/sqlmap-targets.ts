import { randomUUID } from 'node:crypto';

/** sqlmap's custom injection marker: only the places carrying it are tested. */
export const marker = '*';

/** How a request authenticates: an API key, a signed-in person's cookie + CSRF header, or nothing (public). */
export type Credential = 'api-key' | 'session' | 'public';

/** One sqlmap run: a request with `*` after every value to inject, and the names of those places. */
export interface InjectionTarget {
  /** `GET /api/v1/media/{id}`, as in the OpenAPI document. */
  operation: string;
  credential: Credential;
  method: string;
  url: string;
  headers: [string, string][];
  /** JSON with markers inside; absent: no body. */
  body?: string;
  /** What is marked, e.g. `path id`, `query q`, `body email`, `header range`. */
  points: string[];
}

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  pattern?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  default?: unknown;
}

interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema?: JsonSchema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  security?: unknown[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

const methods = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Every operation of the document that takes input from the client (path, query, header or body). */
export function parameterisedOperations(document: OpenApiDocument): { path: string; method: string }[] {
  const found: { path: string; method: string }[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const method of methods) {
      const operation = operations[method];
      if (!operation) continue;
      if ((operation.parameters ?? []).length > 0 || operation.requestBody !== undefined)
        found.push({ path, method });
    }
  }
  return found;
}

export interface TargetContext {
  baseUrl: string;
  /** Headers each credential sends (the API key's Authorization; the cookie, CSRF token and Origin). */
  credentials: Partial<Record<Exclude<Credential, 'public'>, Record<string, string>>>;
  /** Values for path parameters (real ids of seeded rows), used for GET only: reads must not delete them. */
  pathValue?: (path: string, name: string) => string | undefined;
}

/** The sqlmap targets of one operation: once per credential it admits (public ones once, without any). */
export function targetsOf(
  document: OpenApiDocument,
  path: string,
  method: string,
  context: TargetContext,
): InjectionTarget[] {
  const operation = document.paths[path]?.[method];
  if (!operation) throw new Error(`no operation ${method} ${path}`);
  const resolve = (schema: JsonSchema | undefined) => resolveSchema(document, schema);
  const points: string[] = [];
  const headers: [string, string][] = [];
  const required: string[] = [];
  const optional: string[] = [];
  let url = path;
  for (const parameter of operation.parameters ?? []) {
    const schema = resolve(parameter.schema);
    if (parameter.in === 'path') {
      const real = method === 'get' ? context.pathValue?.(path, parameter.name) : undefined;
      url = url.replace(
        `{${parameter.name}}`,
        `${encodeURIComponent(real ?? String(sample(schema, resolve)))}${marker}`,
      );
    } else if (parameter.in === 'query') {
      const pair = `${parameter.name}=${encodeURIComponent(String(sample(schema, resolve)))}${marker}`;
      // An optional parameter gets a run of its own: one invalid sample (an opaque cursor) must not turn
      // every other parameter's baseline into a 400.
      if (!parameter.required) {
        optional.push(pair);
        continue;
      }
      required.push(pair);
    } else if (parameter.in === 'header') {
      headers.push([parameter.name, `${headerSample(parameter.name, schema, resolve)}${marker}`]);
    } else {
      throw new Error(`${method} ${path}: ${parameter.in} parameters are not covered by the injection suite`);
    }
    points.push(`${parameter.in} ${parameter.name}`);
  }
  if (url.includes('{')) throw new Error(`${method} ${path}: a path parameter is not declared`);
  let body: string | undefined;
  if (operation.requestBody) {
    const content = operation.requestBody.content ?? {};
    const json = content['application/json'];
    if (!json || Object.keys(content).length !== 1)
      throw new Error(`${method} ${path}: request body ${Object.keys(content).join(', ')} is not covered`);
    const marked = markedJson(sample(resolve(json.schema), resolve), 'body');
    body = marked.text;
    points.push(...marked.points);
  }
  const unmarked = (text: string) => text.split(marker).join('');
  const queryOf = (pairs: string[]) => (pairs.length > 0 ? `?${pairs.join('&')}` : '');
  const requests = [
    ...(points.length > 0 ? [{ url: `${url}${queryOf(required)}`, headers, body, points }] : []),
    ...optional.map((pair) => ({
      url: `${unmarked(url)}${queryOf([...required.map(unmarked), pair])}`,
      headers: headers.map(([name, value]): [string, string] => [name, unmarked(value)]),
      body: body === undefined ? undefined : unmarked(body),
      points: [`query ${pair.slice(0, pair.indexOf('='))}`],
    })),
  ];
  const security = operation.security;
  const credentials: Credential[] =
    security !== undefined && security.length === 0 ? ['public'] : ['api-key', 'session'];
  return credentials.flatMap((credential) =>
    requests.map((request) => ({
      operation: `${method.toUpperCase()} ${path}`,
      credential,
      method: method.toUpperCase(),
      url: `${context.baseUrl}${request.url}`,
      headers: [
        ...Object.entries(credential === 'public' ? {} : (context.credentials[credential] ?? {})),
        ...request.headers,
      ],
      ...(request.body !== undefined ? { body: request.body } : {}),
      points: request.points,
    })),
  );
}

/**
 * The credential headers themselves as injection points, on one route: `Authorization` of the API key, the
 * session cookie and `X-CSRF-Token`, plus `User-Agent` and `Referer` (what sqlmap's level 3 adds).
 */
export function credentialHeaderTarget(
  credential: Exclude<Credential, 'public'>,
  context: TargetContext,
  request: { operation: string; method: string; path: string; body?: string },
): InjectionTarget {
  const own = context.credentials[credential] ?? {};
  const injected = new Set(['authorization', 'cookie', 'x-csrf-token']);
  const headers: [string, string][] = Object.entries(own).map(([name, value]) => [
    name,
    injected.has(name) ? `${value}${marker}` : value,
  ]);
  headers.push(['user-agent', `guardian-injection-suite${marker}`]);
  headers.push(['referer', `${context.baseUrl}/${marker}`]);
  return {
    operation: request.operation,
    credential,
    method: request.method,
    url: `${context.baseUrl}${request.path}`,
    headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
    points: headers.filter(([, value]) => value.endsWith(marker)).map(([name]) => `header ${name}`),
  };
}

function resolveSchema(document: OpenApiDocument, schema: JsonSchema | undefined): JsonSchema {
  if (!schema) return {};
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = document.components?.schemas?.[name];
    if (!target) throw new Error(`unresolved ${schema.$ref}`);
    return resolveSchema(document, target);
  }
  return schema;
}

/** A value the schema accepts (first enum value, a uuid for uuid, the minimum for numbers, …). */
function sample(
  schema: JsonSchema,
  resolve: (schema: JsonSchema | undefined) => JsonSchema,
  name = '',
): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.default !== undefined && typeof schema.default !== 'object') return schema.default;
  const branch = schema.oneOf?.[0] ?? schema.anyOf?.[0];
  if (branch) return sample(resolve(branch), resolve);
  if (schema.allOf?.length) return sample(resolve(Object.assign({}, ...schema.allOf.map(resolve))), resolve);
  const type = [schema.type ?? (schema.properties ? 'object' : 'string')].flat().find((t) => t !== 'null');
  switch (type) {
    case 'object': {
      const properties = Object.entries(schema.properties ?? {});
      return Object.fromEntries(
        properties.map(([name, property]) => [name, sample(resolve(property), resolve, name)]),
      );
    }
    case 'array':
      return [sample(resolve(schema.items), resolve)];
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, Math.min(schema.maximum ?? 10, 10));
    case 'boolean':
      return true;
    default:
      return stringSample(schema, name);
  }
}

function stringSample(schema: JsonSchema, name: string): string {
  if (/email/i.test(name)) return 'probe@example.com';
  // A loopback receiver (WEBHOOK_ALLOWED_NETWORKS admits it in the suite): no DNS look-up leaves the machine.
  if (name === 'url') return 'https://127.0.0.1/guardian-hook';
  switch (schema.format) {
    case 'uuid':
      return randomUUID();
    case 'date-time':
      return '2026-01-01T00:00:00.000Z';
    case 'email':
      return 'probe@example.com';
    case 'uri':
      return 'https://127.0.0.1/guardian-hook';
    default:
      if (schema.pattern === '^[0-9a-f]{64}$') return 'a'.repeat(64);
      return 'probe'.padEnd(schema.minLength ?? 0, 'x');
  }
}

function headerSample(
  name: string,
  schema: JsonSchema,
  resolve: (schema: JsonSchema | undefined) => JsonSchema,
): string {
  if (name === 'range') return 'bytes=0-99';
  if (name === 'upload-metadata') return 'filename Y2xpcC5tcDQ=';
  return String(sample(schema, resolve));
}

/** JSON text with a marker after every leaf value (inside strings, after numbers and booleans). */
function markedJson(value: unknown, path: string): { text: string; points: string[] } {
  const points: string[] = [];
  const walk = (node: unknown, at: string): string => {
    if (Array.isArray(node)) return `[${node.map((item, index) => walk(item, `${at}[${index}]`)).join(',')}]`;
    if (node !== null && typeof node === 'object')
      return `{${Object.entries(node)
        .map(([key, child]) => `${JSON.stringify(key)}:${walk(child, `${at}.${key}`)}`)
        .join(',')}}`;
    points.push(at.replace(/^body\./, 'body '));
    if (typeof node === 'string') return `${JSON.stringify(node).slice(0, -1)}${marker}"`;
    return `${JSON.stringify(node)}${marker}`;
  };
  return { text: walk(value, path), points };
}
