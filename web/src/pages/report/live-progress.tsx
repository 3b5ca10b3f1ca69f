import { useEffect } from 'react';
import { BandLabel } from '../../components/band-label.js';
import { ErrorMessage } from '../../components/error-message.js';
import { initialLiveStatus } from './live-status.js';
import type { AnalysisView } from './report-shape.js';
import { stageWords } from './report-wording.js';
import { useLiveStatus } from './use-live-status.js';

/** A queued or running analysis: live progress and the preliminary band, until it ends and the report loads. */
export function LiveProgress({ analysis, onEnded }: { analysis: AnalysisView; onEnded: () => void }) {
  const live = useLiveStatus(
    analysis.id,
    initialLiveStatus(analysis.status, analysis.stage, analysis.progress),
    true,
  );
  const ended = live.status === 'done' || live.status === 'failed';
  // Reads the analysis again until the page sees it ended too (the report is stored before the event is sent).
  useEffect(() => {
    if (!ended) return;
    onEnded();
    const retry = setInterval(onEnded, 2000);
    return () => clearInterval(retry);
  }, [ended, onEnded]);
  const percent = Math.round(live.progress * 100);
  return (
    <section aria-labelledby="report-progress" className="report-section">
      <h2 id="report-progress">{live.status === 'queued' ? 'Waiting in the queue' : 'Analysing'}</h2>
      <label htmlFor="report-progress-bar">Progress: {stageWords(live.stage)}</label>
      <progress
        id="report-progress-bar"
        max={100}
        value={percent}
        aria-valuetext={`${percent} percent done`}
      />
      <p role="status" className="muted">
        {ended
          ? 'The analysis has ended; loading the report…'
          : live.connected
            ? 'Live: this page updates by itself.'
            : 'Reconnecting to the live progress…'}
      </p>
      {live.preliminaryBand && (
        <div className="notice report-preliminary">
          <p>
            <strong>Preliminary band:</strong> <BandLabel band={live.preliminaryBand} preliminary />
          </p>
          <p>
            This early band comes only from the checks that need no decoded frames. It is not the result: the
            final band may differ
            {live.pending.length > 0 ? ` once ${live.pending.join(', ')} finish` : ''}.
          </p>
        </div>
      )}
      <ErrorMessage error={live.refused} />
    </section>
  );
}
