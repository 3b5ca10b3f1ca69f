import { useCallback, useEffect, useState } from 'react';
import { Link } from 'wouter';
import { useApi } from '../api/api-context';
import { ApiError } from '../api/problem';
import { formatElapsed, stageWords, type AnalysisProgress } from '../live/analysis-progress';
import { BandLabel } from './band-label';
import { useLiveAnalysis } from './live-analysis-socket';

/** An analysis as it runs: stage by stage with the time each took, then its band and a link to the report. */
export function LiveAnalysisProgress({ analysisId, label }: { analysisId: string; label: string }) {
  const api = useApi();
  // After a failed handshake, a REST read tells whether the analysis can be followed at all.
  const probe = useCallback(async () => {
    try {
      await api.unwrap(api.client.GET('/api/v1/analyses/{id}', { params: { path: { id: analysisId } } }));
      return null;
    } catch (error) {
      return error instanceof ApiError && error.status < 500 ? error.message : null;
    }
  }, [api, analysisId]);
  const live = useLiveAnalysis(analysisId, probe);
  const now = useNow(live.status === 'running' || live.status === 'queued');
  return (
    <div className="live-analysis">
      <p className="live-analysis-status" role="status">
        {statusSentence(live, now)}
        {live.reconnecting ? ' Connection lost, reconnecting…' : ''}
      </p>
      {(live.status === 'running' || live.status === 'queued') && (
        <progress
          className="live-analysis-bar"
          max={1}
          value={live.progress}
          aria-label={`Analysis of ${label}`}
        />
      )}
      {live.stages.length > 0 && (
        <ol className="live-analysis-stages" aria-label={`Analysis stages of ${label}`}>
          {live.stages.map((stage) => (
            <li key={stage.name}>
              {stageWords(stage.name)}:{' '}
              {stage.finishedAt !== null
                ? `done in ${formatElapsed(stage.finishedAt - (stage.startedAt ?? stage.finishedAt))}`
                : `running, ${formatElapsed(now - (stage.startedAt ?? now))}`}
            </li>
          ))}
        </ol>
      )}
      {live.band && (
        <p>
          Result: <BandLabel band={live.band} />
        </p>
      )}
      {!live.band && live.preliminaryBand && (
        <p>
          Early result from the metadata and packet checks:{' '}
          <BandLabel band={live.preliminaryBand} preliminary />
        </p>
      )}
      {live.error && <p className="error">{live.error}</p>}
      <p>
        <Link href={`/analyses/${analysisId}`}>Report for {label}</Link>
      </p>
    </div>
  );
}

function statusSentence(live: AnalysisProgress, now: number): string {
  const elapsed = live.startedAt !== null ? formatElapsed((live.finishedAt ?? now) - live.startedAt) : null;
  switch (live.status) {
    case 'connecting':
      return 'Connecting to the analysis…';
    case 'queued':
      return 'Analysis queued, waiting for a worker.';
    case 'running':
      return `Analysing${live.stage ? ` (${stageWords(live.stage)})` : ''}${elapsed ? `, ${elapsed} so far` : ''}.`;
    case 'done':
      return `Analysis finished${elapsed ? ` in ${elapsed}` : ''}.`;
    case 'failed':
      return 'The analysis failed; the report says why.';
  }
}

/** The current time, ticking every second while `active`, for elapsed-time displays. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}
