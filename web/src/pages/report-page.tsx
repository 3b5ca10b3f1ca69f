import { useParams } from 'wouter';
import { ApiError } from '../api/problem';
import { ErrorMessage } from '../components/error-message';
import { Page } from '../components/page';
import { AnalysisFailure } from './report/analysis-failure';
import { FinishedReport } from './report/finished-report';
import { LiveProgress } from './report/live-progress';
import { readReport } from './report/report-shape';
import { useAnalysis } from './report/use-analysis';

/** /analyses/:id: live progress while the analysis runs, then the report; another organisation's id is not found. */
export default function ReportPage() {
  const { id = '' } = useParams<{ id: string }>();
  return <AnalysisReport key={id} id={id} />;
}

function AnalysisReport({ id }: { id: string }) {
  const { analysis, error, reload } = useAnalysis(id);
  if (error && !analysis) {
    const notFound = error instanceof ApiError && (error.status === 404 || error.status === 400);
    return (
      <Page title={notFound ? 'Analysis not found' : 'Report'}>
        <ErrorMessage
          error={notFound ? 'This analysis does not exist, or it belongs to another organisation.' : error}
        />
      </Page>
    );
  }
  if (!analysis)
    return (
      <Page title="Report">
        <p role="status">Loading the report…</p>
      </Page>
    );
  const report = readReport(analysis);
  return (
    <Page title="Analysis report" wide>
      {(analysis.status === 'queued' || analysis.status === 'running') && (
        <LiveProgress analysis={analysis} onEnded={reload} />
      )}
      {analysis.status === 'failed' && <AnalysisFailure analysis={analysis} />}
      {report && <FinishedReport analysis={analysis} report={report} />}
      <ErrorMessage error={error} />
    </Page>
  );
}
