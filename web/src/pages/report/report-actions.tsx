import { useEffect, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { useApi } from '../../api/api-context.js';
import { ErrorMessage } from '../../components/error-message.js';
import { useMe } from '../../session/session-context.js';
import type { AnalysisView } from './report-shape.js';
import { rerunAnalysis } from './rerun-analysis.js';

/** Downloads (report JSON, evidence bundle, PDF) and, for analysts and admins, a re-run with the current pipeline. */
export function ReportActions({ analysis }: { analysis: AnalysisView }) {
  const base = `/api/v1/analyses/${encodeURIComponent(analysis.id)}`;
  const reportUrl = useJsonDownload(analysis.report);
  return (
    <section aria-labelledby="report-downloads" className="report-section">
      <h2 id="report-downloads">Downloads</h2>
      <ul className="report-actions">
        {reportUrl && (
          <li>
            <a href={reportUrl} download={`report-${analysis.id}.json`}>
              Download report (JSON)
            </a>
          </li>
        )}
        <li>
          <a href={`${base}/evidence`} download={`evidence-${analysis.id}.json`}>
            Download the evidence bundle
          </a>{' '}
          <span className="muted">(signed, checkable offline on the Verify page)</span>
        </li>
        <li>
          <a href={`${base}/report.pdf`} download={`report-${analysis.id}.pdf`}>
            Download report (PDF)
          </a>
        </li>
      </ul>
      <RerunButton mediaId={analysis.mediaId} />
    </section>
  );
}

/** The report exactly as stored, as a file the browser saves: an object URL, released when the page goes. */
function useJsonDownload(report: AnalysisView['report']): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!report) return;
    const created = URL.createObjectURL(
      new Blob([JSON.stringify(report, null, 2)], { type: 'application/json' }),
    );
    setUrl(created);
    return () => URL.revokeObjectURL(created);
  }, [report]);
  return url;
}

function RerunButton({ mediaId }: { mediaId: string }) {
  const api = useApi();
  const me = useMe();
  const [, navigate] = useLocation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [running, setRunning] = useState<string | null>(null);
  if (me.user.role !== 'analyst' && me.user.role !== 'admin') return null;

  async function rerun() {
    setBusy(true);
    setError(null);
    try {
      const outcome = await rerunAnalysis(api, mediaId);
      if ('started' in outcome) navigate(`/analyses/${outcome.started}`);
      else setRunning(outcome.inProgress);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="report-rerun">
      <button type="button" className="secondary" disabled={busy} onClick={() => void rerun()}>
        {busy ? 'Starting…' : 'Re-run with the current pipeline'}
      </button>
      {running && (
        <p role="status">
          An analysis of this media is already queued or running:{' '}
          <Link href={`/analyses/${running}`}>follow it</Link>.
        </p>
      )}
      <ErrorMessage error={error} />
    </div>
  );
}
