import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';
import { ApiError, type Problem } from './problem';

/**
 * The typed API client over openapi-fetch, generated types from openapi.json. The CSRF token lives only in
 * memory (never localStorage): after a reload it is fetched again from GET /api/v1/auth/csrf.
 */
export interface GuardianApi {
  client: ReturnType<typeof createClient<paths>>;
  setCsrfToken(token: string | null): void;
  /** Resolves an openapi-fetch result to its data, or throws ApiError with the problem. */
  unwrap<T>(result: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T>;
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function createGuardianApi(baseUrl = ''): GuardianApi {
  let csrfToken: string | null = null;
  const client = createClient<paths>({ baseUrl, credentials: 'same-origin' });
  const csrf: Middleware = {
    onRequest({ request }) {
      if (csrfToken && unsafeMethods.has(request.method)) request.headers.set('X-CSRF-Token', csrfToken);
      return request;
    },
  };
  client.use(csrf);
  return {
    client,
    setCsrfToken(token) {
      csrfToken = token;
    },
    async unwrap(result) {
      const { data, error, response } = await result;
      if (!response.ok) throw new ApiError(response.status, toProblem(error));
      return data as never;
    },
  };
}

function toProblem(error: unknown): Problem {
  return typeof error === 'object' && error !== null ? (error as Problem) : {};
}
