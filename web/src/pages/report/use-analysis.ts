import { useCallback, useEffect, useState } from 'react';
import { useApi } from '../../api/api-context.js';
import type { AnalysisView, ArtifactEntry } from './report-shape.js';

/** The analysis from GET /api/v1/analyses/{id}; `reload` reads it again (when the live status says it ended). */
export function useAnalysis(id: string) {
  const api = useApi();
  const [analysis, setAnalysis] = useState<AnalysisView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      setAnalysis(await api.unwrap(api.client.GET('/api/v1/analyses/{id}', { params: { path: { id } } })));
      setError(null);
    } catch (caught) {
      setError(caught);
    }
  }, [api, id]);
  useEffect(() => {
    void load();
  }, [load]);
  return { analysis, error, reload: load };
}

/** The artifact list of a finished analysis (evidence images, timelines), in report order. */
export function useArtifacts(id: string, done: boolean) {
  const api = useApi();
  const [artifacts, setArtifacts] = useState<ArtifactEntry[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!done) return;
    let current = true;
    api
      .unwrap(api.client.GET('/api/v1/analyses/{id}/artifacts', { params: { path: { id } } }))
      .then((list) => current && setArtifacts(list.artifacts))
      .catch((caught: unknown) => current && setError(caught));
    return () => {
      current = false;
    };
  }, [api, id, done]);
  return { artifacts, error };
}
