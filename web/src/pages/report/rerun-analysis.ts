import type { GuardianApi } from '../../api/client.js';
import { ApiError } from '../../api/problem.js';
import type { AnalysisView } from './report-shape.js';

/*
 * POST /api/v1/media/{id}/analyses (202 with the new, queued analysis; 409 `analysis-in-progress` with the
 * running one's `analysisId`) is built on another branch: until openapi.json carries it and
 * `npm run web:api-types` regenerates the client, this is the one untyped call, declared here only.
 */
type RerunClient = {
  POST(
    path: '/api/v1/media/{id}/analyses',
    init: { params: { path: { id: string } } },
  ): Promise<{ data?: AnalysisView; error?: unknown; response: Response }>;
};

export type RerunOutcome = { started: string } | { inProgress: string };

export async function rerunAnalysis(api: GuardianApi, mediaId: string): Promise<RerunOutcome> {
  const client = api.client as unknown as RerunClient;
  try {
    const created = await api.unwrap(
      client.POST('/api/v1/media/{id}/analyses', { params: { path: { id: mediaId } } }),
    );
    return { started: created.id };
  } catch (error) {
    const running = error instanceof ApiError ? (error.problem as { analysisId?: unknown }).analysisId : null;
    if (error instanceof ApiError && error.code === 'analysis-in-progress' && typeof running === 'string')
      return { inProgress: running };
    throw error;
  }
}
