import { createReadStream, openAsBlob, statSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Upload } from 'tus-js-client';
import WebSocket from 'ws';

export interface TimedUpload {
  mediaId: string;
  analysisId: string;
  elapsedMs: number;
}

export interface AnalysisOutcome {
  band: string;
  /** When `done` was first seen (performance.now()). */
  doneAt: number;
  polls: number;
  /** Polls answered 429 by the rate limiter (600/min per client); they delay noticing `done`. */
  rateLimitedPolls: number;
}

/** POST /api/v1/media as multipart (field `file`), the file streamed from disk; timed until the 201. */
export async function uploadMultipart(
  baseUrl: string,
  key: string,
  path: string,
  timeoutMs: number,
): Promise<TimedUpload> {
  const form = new FormData();
  form.set('file', await openAsBlob(path, { type: 'video/mp4' }), basename(path));
  const started = performance.now();
  const response = await fetch(`${baseUrl}/api/v1/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: form,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await response.text();
  const elapsedMs = performance.now() - started;
  if (response.status !== 201) throw new Error(`upload answered ${response.status}: ${body.slice(0, 500)}`);
  return { ...registered(body), elapsedMs };
}

/** Polls GET /api/v1/analyses/:id every intervalMs until `done`; `failed` or the deadline throws. */
export async function waitForDone(
  baseUrl: string,
  key: string,
  analysisId: string,
  options: { intervalMs: number; timeoutMs: number },
): Promise<AnalysisOutcome> {
  const deadline = performance.now() + options.timeoutMs;
  let polls = 0;
  let rateLimitedPolls = 0;
  for (;;) {
    const response = await fetch(`${baseUrl}/api/v1/analyses/${analysisId}`, {
      headers: { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(10_000),
    });
    const seenAt = performance.now();
    polls += 1;
    const body = (await response.json()) as { status?: unknown; band?: unknown; error?: unknown };
    if (response.status === 429) rateLimitedPolls += 1;
    else if (response.status !== 200) throw new Error(`analysis poll answered ${response.status}`);
    else if (body.status === 'done')
      return { band: String(body.band), doneAt: seenAt, polls, rateLimitedPolls };
    else if (body.status === 'failed')
      throw new Error(`analysis failed: ${JSON.stringify(body).slice(0, 500)}`);
    if (seenAt > deadline)
      throw new Error(`analysis still ${String(body.status)} after ${options.timeoutMs} ms`);
    await sleep(options.intervalMs);
  }
}

/** tus 1.0 upload at /api/v1/uploads in chunkBytes PATCHes; timed from creation until the finishing answer. */
export function uploadTus(
  baseUrl: string,
  key: string,
  path: string,
  options: { chunkBytes: number; timeoutMs: number },
): Promise<TimedUpload> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const upload = new Upload(createReadStream(path), {
      endpoint: `${baseUrl}/api/v1/uploads`,
      uploadSize: statSync(path).size,
      chunkSize: options.chunkBytes,
      retryDelays: [],
      headers: { authorization: `Bearer ${key}` },
      metadata: { filename: basename(path), filetype: 'video/mp4' },
      onError: (error) => finish(() => reject(error)),
      onSuccess: (payload) =>
        finish(() => {
          const elapsedMs = performance.now() - started;
          resolve({ ...registeredByHeaders(payload.lastResponse), elapsedMs });
        }),
    });
    const timer = setTimeout(() => {
      upload.abort().catch(() => undefined);
      reject(new Error(`tus upload did not finish in ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      try {
        settle();
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    upload.start();
  });
}

function registered(body: string): { mediaId: string; analysisId: string } {
  const parsed = JSON.parse(body) as { id?: unknown; analysisId?: unknown };
  if (typeof parsed.id !== 'string' || typeof parsed.analysisId !== 'string') {
    throw new Error(`unexpected upload answer: ${body.slice(0, 500)}`);
  }
  return { mediaId: parsed.id, analysisId: parsed.analysisId };
}

/** The last PATCH answers 204 (tus 1.0): the ids come in headers. */
function registeredByHeaders(response: { getHeader(name: string): string | undefined }): {
  mediaId: string;
  analysisId: string;
} {
  const mediaId = response.getHeader('Guardian-Media-Id');
  const analysisId = response.getHeader('Guardian-Analysis-Id');
  if (!mediaId || !analysisId) throw new Error('the finishing tus answer names no media or analysis id');
  return { mediaId, analysisId };
}

export interface PreliminaryWatch {
  /** When the analysis's `analysis.preliminary` event arrived (performance.now()) and its band; null if none did. */
  seen(analysisId: string): { at: number; band: string } | null;
  close(): void;
}

/** A WebSocket on /api/v1/events, open before the upload, noting each analysis's preliminary band as it comes. */
export async function watchPreliminaryBands(baseUrl: string, key: string): Promise<PreliminaryWatch> {
  const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/events`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const seen = new Map<string, { at: number; band: string }>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('events WebSocket: no `subscribed` within 10 s')),
      10_000,
    );
    socket.on('error', reject);
    socket.on('message', (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as {
        type: string;
        analysisId?: string;
        band?: string;
        preliminary?: boolean;
      };
      if (message.type === 'subscribed') {
        clearTimeout(timer);
        resolve();
      }
      if (message.type === 'analysis.preliminary' && message.preliminary === true && message.analysisId)
        seen.set(message.analysisId, { at: performance.now(), band: String(message.band) });
    });
  });
  return { seen: (analysisId) => seen.get(analysisId) ?? null, close: () => socket.close() };
}
