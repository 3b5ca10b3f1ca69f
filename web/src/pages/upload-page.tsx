import { useRef, useState, type DragEvent } from 'react';
import { Link } from 'wouter';
import { ErrorMessage } from '../components/error-message';
import { LiveAnalysisProgress } from '../components/live-analysis-progress';
import { Page } from '../components/page';
import { formatBytes } from './upload/file-checks';
import { useUploadLimit } from './upload/upload-limits';
import { useTusUploads, type FileUpload } from './upload/use-tus-uploads';

export default function UploadPage() {
  const limit = useUploadLimit();
  const { uploads, unfinished, addFiles, pause, resume, retry, discardUnfinished } = useTusUploads(
    limit.maxBytes,
  );
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const stored = uploads.filter((upload) => upload.mediaId);

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    addFiles(Array.from(event.dataTransfer.files));
  };

  return (
    <Page title="Upload">
      <p>
        Video and image files are checked for signs of manipulation. Uploads resume where they stopped after a
        lost connection or a reload of this tab.
        {limit.maxBytes !== null && ` Files up to ${formatBytes(limit.maxBytes)} each.`}
      </p>
      <ErrorMessage error={limit.error} />
      <div
        className={dragging ? 'upload-drop-zone upload-drop-zone-active' : 'upload-drop-zone'}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drop video or image files here, or choose them:</p>
        <label htmlFor="upload-files">Files to upload</label>
        <input
          id="upload-files"
          ref={input}
          type="file"
          multiple
          accept="video/*,image/*"
          disabled={limit.maxBytes === null && !limit.error}
          onChange={(event) => {
            addFiles(Array.from(event.target.files ?? []));
            if (input.current) input.current.value = '';
          }}
        />
      </div>

      {unfinished.length > 0 && (
        <section aria-labelledby="unfinished-heading" className="card">
          <h2 id="unfinished-heading">Unfinished uploads</h2>
          <p>These uploads stopped before they finished. Choose the same file again to resume it.</p>
          <ul className="upload-unfinished">
            {unfinished.map((previous) => (
              <li key={previous.urlStorageKey}>
                {previous.metadata.filename ?? 'Unnamed file'}
                {previous.size !== null && ` (${formatBytes(previous.size)})`}{' '}
                <button type="button" className="secondary" onClick={() => void discardUnfinished(previous)}>
                  Discard {previous.metadata.filename ?? 'this upload'}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}

      {uploads.length > 0 && (
        <section aria-labelledby="uploads-heading">
          <h2 id="uploads-heading">Files</h2>
          <ul className="upload-list">
            {uploads.map((upload) => (
              <li key={upload.key} className="card upload-item">
                <UploadItem upload={upload} pause={pause} resume={resume} retry={retry} />
              </li>
            ))}
          </ul>
        </section>
      )}

      {stored.length > 1 && (
        <p>
          <Link href={`/batch?media=${stored.map((upload) => upload.mediaId).join(',')}`}>
            Follow all {stored.length} files in the batch view
          </Link>
        </p>
      )}
    </Page>
  );
}

function UploadItem({
  upload,
  pause,
  resume,
  retry,
}: {
  upload: FileUpload;
  pause(key: string): void;
  resume(key: string): void;
  retry(key: string): void;
}) {
  return (
    <>
      <h3 className="upload-name">{upload.name}</h3>
      {upload.phase !== 'refused-before-sending' && upload.phase !== 'stored' && (
        <>
          <progress
            className="upload-bar"
            max={upload.size}
            value={upload.bytesSent}
            aria-label={`Upload of ${upload.name}`}
          />
          <p className="muted">
            {formatBytes(upload.bytesSent)} of {formatBytes(upload.size)} sent
            {upload.resumed ? ', resumed from an earlier upload' : ''}
            {upload.phase === 'paused' ? ', paused' : ''}.
          </p>
        </>
      )}
      {upload.phase === 'refused-before-sending' && <p className="error">Not sent: {upload.error}</p>}
      {upload.phase === 'failed' && <p className="error">{upload.error}</p>}
      <div className="upload-actions">
        {upload.phase === 'uploading' && (
          <button type="button" className="secondary" onClick={() => pause(upload.key)}>
            Pause {upload.name}
          </button>
        )}
        {upload.phase === 'paused' && (
          <button type="button" onClick={() => resume(upload.key)}>
            Resume {upload.name}
          </button>
        )}
        {upload.phase === 'failed' && upload.retryable && (
          <button type="button" onClick={() => retry(upload.key)}>
            Retry {upload.name}
          </button>
        )}
      </div>
      {upload.phase === 'stored' && upload.analysisId && (
        <>
          <p>Uploaded ({formatBytes(upload.size)}).</p>
          <LiveAnalysisProgress analysisId={upload.analysisId} label={upload.name} />
        </>
      )}
    </>
  );
}
