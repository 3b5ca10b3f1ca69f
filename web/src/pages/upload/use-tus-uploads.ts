import { useCallback, useEffect, useRef, useState } from 'react';
import { Upload, type DetailedError, type PreviousUpload } from 'tus-js-client';
import { useApi } from '../../api/api-context';
import { fileProblem } from './file-checks';
import { describeUploadFailure } from './upload-errors';
import { fileFingerprint, sessionUrlStorage } from './session-url-storage';

export const uploadsEndpoint = '/api/v1/uploads';
// Each PATCH carries at most this much, so a pause or a lost connection costs at most one chunk.
const chunkBytes = 4 * 1024 * 1024;

export type UploadPhase = 'refused-before-sending' | 'uploading' | 'paused' | 'failed' | 'stored';

export interface FileUpload {
  key: string;
  name: string;
  size: number;
  phase: UploadPhase;
  bytesSent: number;
  /** Set when this file continues an upload begun before a reload. */
  resumed: boolean;
  error: string | null;
  retryable: boolean;
  mediaId: string | null;
  analysisId: string | null;
}

/** The tus uploads of this page: checked before any byte is sent, then resumable, pausable, retryable. */
export function useTusUploads(maxBytes: number | null) {
  const api = useApi();
  const [uploads, setUploads] = useState<FileUpload[]>([]);
  const [unfinished, setUnfinished] = useState<PreviousUpload[]>([]);
  const running = useRef(new Map<string, Upload>());
  const storage = useRef(sessionUrlStorage(window.sessionStorage));
  const csrf = useRef<Promise<string> | null>(null);

  const update = useCallback((key: string, change: Partial<FileUpload>) => {
    setUploads((all) => all.map((upload) => (upload.key === key ? { ...upload, ...change } : upload)));
  }, []);

  const forget = useCallback((urlStorageKey: string) => {
    setUnfinished((all) => all.filter((previous) => previous.urlStorageKey !== urlStorageKey));
  }, []);

  useEffect(() => {
    // Uploads this tab began before a reload; choosing the same file again resumes one.
    void storage.current.findAllUploads().then(setUnfinished);
    const uploadsNow = running.current;
    // Leaving the page pauses (the server keeps what it got); coming back with the same file resumes.
    return () => uploadsNow.forEach((upload) => void upload.abort(false));
  }, []);

  const csrfToken = useCallback(() => {
    csrf.current ??= api
      .unwrap(api.client.GET('/api/v1/auth/csrf'))
      .then(({ csrfToken }) => csrfToken)
      .catch((error: unknown) => {
        csrf.current = null;
        throw error;
      });
    return csrf.current;
  }, [api]);

  // The last response was lost (e.g. a reload at the very end): the server keeps the outcome for a while.
  const askOutcome = useCallback(
    async (key: string, url: string | null) => {
      const uploadId = url?.split('/').pop();
      if (!uploadId) return;
      try {
        const outcome = await api.unwrap(
          api.client.GET('/api/v1/uploads/{uploadId}', { params: { path: { uploadId } } }),
        );
        if (outcome.status === 'stored' && outcome.mediaId && outcome.analysisId) {
          update(key, { phase: 'stored', mediaId: outcome.mediaId, analysisId: outcome.analysisId });
        } else {
          update(key, {
            phase: 'failed',
            error: outcome.problem?.detail ?? 'The server did not keep this upload.',
            retryable: false,
          });
        }
      } catch (error) {
        update(key, { phase: 'failed', error: (error as Error).message, retryable: true });
      }
    },
    [api, update],
  );

  const start = useCallback(
    async (key: string, file: File) => {
      const upload = new Upload(file, {
        endpoint: uploadsEndpoint,
        chunkSize: chunkBytes,
        retryDelays: [0, 1000, 3000, 5000],
        metadata: { filename: file.name },
        urlStorage: storage.current,
        fingerprint: fileFingerprint,
        removeFingerprintOnSuccess: true,
        // tus requests change state: the session's CSRF token goes with each (the cookie alone is refused).
        onBeforeRequest: async (request) => request.setHeader('X-CSRF-Token', await csrfToken()),
        onProgress: (bytesSent) => update(key, { bytesSent }),
        onSuccess: ({ lastResponse }) => {
          running.current.delete(key);
          const mediaId = lastResponse.getHeader('Guardian-Media-Id') ?? null;
          const analysisId = lastResponse.getHeader('Guardian-Analysis-Id') ?? null;
          if (mediaId && analysisId) {
            update(key, { phase: 'stored', bytesSent: file.size, mediaId, analysisId });
          } else {
            void askOutcome(key, upload.url);
          }
        },
        onError: (error) => {
          running.current.delete(key);
          const response = (error as DetailedError).originalResponse ?? null;
          const failure = describeUploadFailure(response?.getStatus() ?? null, response?.getBody() ?? null);
          update(key, { phase: 'failed', error: failure.message, retryable: failure.retryable });
        },
      });
      running.current.set(key, upload);
      const previous = await upload.findPreviousUploads();
      const resumeFrom = previous[0];
      if (resumeFrom) {
        upload.resumeFromPreviousUpload(resumeFrom);
        forget(resumeFrom.urlStorageKey);
      }
      update(key, { phase: 'uploading', resumed: Boolean(resumeFrom), error: null });
      upload.start();
    },
    [csrfToken, update, forget, askOutcome],
  );

  const files = useRef(new Map<string, File>());

  const addFiles = useCallback(
    (chosen: File[]) => {
      const added = chosen.map((file) => {
        const key = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
        files.current.set(key, file);
        const problem = fileProblem(file, maxBytes);
        const entry: FileUpload = {
          key,
          name: file.name,
          size: file.size,
          phase: problem ? 'refused-before-sending' : 'uploading',
          bytesSent: 0,
          resumed: false,
          error: problem,
          retryable: false,
          mediaId: null,
          analysisId: null,
        };
        return entry;
      });
      setUploads((all) => [...all, ...added]);
      for (const entry of added) {
        const file = files.current.get(entry.key);
        if (entry.phase === 'uploading' && file) void start(entry.key, file);
      }
    },
    [maxBytes, start],
  );

  const pause = useCallback(
    (key: string) => {
      const upload = running.current.get(key);
      if (!upload) return;
      void upload.abort(false);
      update(key, { phase: 'paused' });
    },
    [update],
  );

  const resume = useCallback(
    (key: string) => {
      const upload = running.current.get(key);
      const file = files.current.get(key);
      update(key, { phase: 'uploading', error: null });
      // A paused upload knows its URL and asks the server where to go on (HEAD); a failed one starts over the same way.
      if (upload) upload.start();
      else if (file) void start(key, file);
    },
    [start, update],
  );

  const discardUnfinished = useCallback(
    async (previous: PreviousUpload) => {
      if (previous.uploadUrl) {
        const token = await csrfToken();
        await Upload.terminate(previous.uploadUrl, { headers: { 'X-CSRF-Token': token } }).catch(
          () => undefined,
        );
      }
      await storage.current.removeUpload(previous.urlStorageKey);
      forget(previous.urlStorageKey);
    },
    [csrfToken, forget],
  );

  return { uploads, unfinished, addFiles, pause, resume, retry: resume, discardUnfinished };
}
