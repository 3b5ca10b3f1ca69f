import { useEffect, useState } from 'react';
import { useParams } from 'wouter';
import { useApi } from '../api/api-context';
import { ApiError } from '../api/problem';
import { ErrorMessage } from '../components/error-message';
import { Page } from '../components/page';
import { FinishedReport } from './report/finished-report';
import { readReport } from './report/report-shape';
import { sharedReportFailure, type SharedReportView } from './report/share-wording';

/** /shared/:token: one report, read-only, for whoever holds the link; no sign-in, no actions. */
export default function SharedReportPage() {
  const { token = '' } = useParams<{ token: string }>();
  const api = useApi();
  const [shared, setShared] = useState<SharedReportView | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let current = true;
    api
      .unwrap(api.client.GET('/api/v1/shared-reports/{token}', { params: { path: { token } } }))
      .then((found) => current && setShared(found))
      .catch((caught: unknown) => current && setError(caught));
    return () => {
      current = false;
    };
  }, [api, token]);

  if (error)
    return (
      <Page title="Shared report">
        <ErrorMessage error={sharedReportFailure(error instanceof ApiError ? error.code : undefined)} />
      </Page>
    );
  if (!shared)
    return (
      <Page title="Shared report">
        <p role="status">Loading the report…</p>
      </Page>
    );
  const report = readReport(shared.analysis);
  return (
    <Page title="Shared analysis report" wide>
      <p className="notice">
        A read-only copy shared with you, available until{' '}
        {new Date(shared.sharedUntil).toLocaleString('en-GB')}.
        {shared.media ? '' : ' The media file was not shared.'}
      </p>
      {report ? (
        <FinishedReport
          analysis={shared.analysis}
          report={report}
          shared={{ mediaUrl: shared.media?.url ?? null, artifacts: shared.artifacts }}
        />
      ) : (
        <p>This report is not available.</p>
      )}
    </Page>
  );
}
