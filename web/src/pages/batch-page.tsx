import { useEffect, useState } from 'react';
import { useSearch } from 'wouter';
import { useApi } from '../api/api-context';
import type { paths } from '../api/schema';
import { ErrorMessage } from '../components/error-message';
import { LiveAnalysisProgress } from '../components/live-analysis-progress';
import { Page } from '../components/page';
import { batchMediaIds } from './batch/batch-ids';

type Media = paths['/api/v1/media/{id}']['get']['responses'][200]['content']['application/json'];
/** Several uploads followed together: each file's analysis live, its band, and a link to its report. */
export default function BatchPage() {
  const ids = batchMediaIds(useSearch());
  return (
    <Page title="Batch" wide>
      {ids.length === 0 ? (
        <p>No files are listed. Upload several files and follow them here, or pick one from the history.</p>
      ) : (
        <ul className="batch-list">
          {ids.map((id) => (
            <li key={id} className="card">
              <BatchItem mediaId={id} />
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}

function BatchItem({ mediaId }: { mediaId: string }) {
  const api = useApi();
  const [media, setMedia] = useState<Media | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let current = true;
    api
      .unwrap(api.client.GET('/api/v1/media/{id}', { params: { path: { id: mediaId } } }))
      .then((found) => current && setMedia(found))
      .catch((failure: unknown) => current && setError(failure));
    return () => {
      current = false;
    };
  }, [api, mediaId]);
  if (error) return <ErrorMessage error={error} />;
  if (!media) return <p role="status">Loading…</p>;
  const name = media.originalFilename ?? 'Unnamed file';
  return (
    <>
      <h2 className="batch-name">{name}</h2>
      {media.analysisId ? (
        <LiveAnalysisProgress analysisId={media.analysisId} label={name} />
      ) : (
        <p>This file has no analysis.</p>
      )}
    </>
  );
}
