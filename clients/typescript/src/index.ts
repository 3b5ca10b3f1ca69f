import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths };

/** An analysis as GET /api/v1/analyses/{id} returns it. */
export type Analysis = paths['/api/v1/analyses/{id}']['get']['responses'][200]['content']['application/json'];
/** The stored media and its first analysis, as POST /api/v1/media answers. */
export type UploadedMedia = paths['/api/v1/media']['post']['responses'][201]['content']['application/json'];
export type Band = NonNullable<Analysis['band']>;

/** The bands in the words the product uses: never "authentic". */
export const bandWords: Record<Band, string> = {
  indicators_found: 'Manipulation indicators found',
  inconclusive: 'Inconclusive',
  no_indicators: 'No indicators found by these checks',
  not_analyzable: 'Not analyzable',
};

export interface GuardianClientOptions {
  /** The deployment's origin, e.g. `https://guardian.example.org` (no trailing `/api/v1`). */
  baseUrl: string;
  /** An API key from `guardian apikey create` or the admin page; sent as `Authorization: Bearer`. */
  apiKey: string;
  /** A fetch of your own (proxies, tests); the global fetch otherwise. */
  fetch?: typeof globalThis.fetch;
}

export interface GuardianClient {
  /** The typed openapi-fetch client: `api.GET('/api/v1/analyses/{id}', { params: { path: { id } } })`. */
  api: Client<paths>;
  /** Uploads one file by multipart POST /api/v1/media; its analysis starts at once. */
  uploadFile(file: Blob, filename: string): Promise<UploadedMedia>;
  /** Polls the analysis until it is done or failed (every `intervalMs`, at most `timeoutMs`). */
  waitForAnalysis(
    analysisId: string,
    options?: { intervalMs?: number; timeoutMs?: number },
  ): Promise<Analysis>;
  /** The evidence bundle's exact text: keep it byte for byte, `guardian verify` checks its form too. */
  evidenceBundle(analysisId: string): Promise<string>;
}

/** A problem+json answer from the API, with its stable `code`. */
export class GuardianApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { code?: string; title?: string; detail?: string } | undefined,
  ) {
    super(`${status} ${problem?.code ?? ''}: ${problem?.detail ?? problem?.title ?? 'request failed'}`);
    this.name = 'GuardianApiError';
  }
}

export function createGuardianClient(options: GuardianClientOptions): GuardianClient {
  const api = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { Authorization: `Bearer ${options.apiKey}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  const data = async <T>(result: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> => {
    const { data: value, error, response } = await result;
    if (!response.ok || value === undefined) throw new GuardianApiError(response.status, error as never);
    return value;
  };

  return {
    api,
    uploadFile(file, filename) {
      const form = new FormData();
      form.append('file', file, filename);
      // The multipart body is not described in the OpenAPI document; openapi-fetch sends FormData unchanged.
      return data(api.POST('/api/v1/media', { body: form as never }));
    },
    async waitForAnalysis(analysisId, { intervalMs = 1000, timeoutMs = 10 * 60_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const analysis = await data(
          api.GET('/api/v1/analyses/{id}', { params: { path: { id: analysisId } } }),
        );
        if (analysis.status === 'done' || analysis.status === 'failed') return analysis;
        if (Date.now() > deadline)
          throw new Error(`analysis ${analysisId} still ${analysis.status} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    },
    evidenceBundle(analysisId) {
      return data(
        api.GET('/api/v1/analyses/{id}/evidence', { params: { path: { id: analysisId } }, parseAs: 'text' }),
      );
    },
  };
}
