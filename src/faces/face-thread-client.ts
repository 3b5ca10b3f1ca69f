import { Worker } from 'node:worker_threads';
import type { SampledFrame } from '../pipeline/frames/frame-sample.js';
import type { FaceObservation } from './face-types.js';
import type { FaceThreadReply, FaceThreadRequest } from './human-face-thread.js';

const maxFramesInFlight = 8;

export interface FaceThread {
  /** The models' versions and hashes once Human has loaded in the thread; rejects if it cannot load. */
  ready: Promise<Record<string, string>>;
  /** Faces in one frame; frames are searched one at a time in the order given. */
  detect(frame: SampledFrame, signal: AbortSignal): Promise<FaceObservation[]>;
  /** Ends the thread; searches still waiting fail with the reason. */
  close(): Promise<void>;
}

/**
 * Starts Human's worker thread. It never holds the process open (unref'd); if it dies, every search
 * waiting on it fails with the reason and the next finder call starts none: the analysis says why.
 */
export function openFaceThread(settings: { maxFacesPerFrame: number }): FaceThread {
  // From the sources (tsx, vitest) the thread's module is TypeScript: tsx's loader goes in first.
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(`./human-face-thread.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  const worker = fromSource
    ? new Worker(
        `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`,
        { eval: true, workerData: settings },
      )
    : new Worker(entry, { workerData: settings });
  const waiting = new Map<number, { resolve(faces: FaceObservation[]): void; reject(error: Error): void }>();
  let nextId = 0;
  let loading = true;
  let dead: Error | null = null;
  // Idle, the thread must not keep the process alive; loading or searching, it must not be left behind.
  const holdProcess = () => (loading || waiting.size > 0 ? worker.ref() : worker.unref());
  let markReady: (models: Record<string, string>) => void = () => {};
  let markFailed: (error: Error) => void = () => {};
  const ready = new Promise<Record<string, string>>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  // Unobserved until a search asks; a failed load is each search's to report.
  ready.catch(() => undefined);
  const fail = (error: Error) => {
    dead ??= error;
    loading = false;
    markFailed(error);
    for (const pending of waiting.values()) pending.reject(error);
    waiting.clear();
    queued.length = 0;
    holdProcess();
  };
  // Frames wait here and are copied for the thread a few at a time: a whole sample in flight would double it.
  const queued: { id: number; frame: SampledFrame }[] = [];
  const posted = new Set<number>();
  const pump = () => {
    while (posted.size < maxFramesInFlight && queued.length > 0) {
      const { id, frame } = queued.shift()!;
      // A copy the thread owns: the sample keeps its own frame for the detectors.
      const data = new Uint8Array(frame.data);
      posted.add(id);
      worker.postMessage({ kind: 'detect', id, frame: { ...frame, data } } satisfies FaceThreadRequest, [
        data.buffer,
      ]);
    }
  };
  const answered = (id: number) => {
    posted.delete(id);
    pump();
  };
  const settle = (id: number, outcome: { faces: FaceObservation[] } | { error: Error }) => {
    const pending = waiting.get(id);
    waiting.delete(id);
    if ('faces' in outcome) pending?.resolve(outcome.faces);
    else pending?.reject(outcome.error);
    holdProcess();
  };
  worker.on('message', (message: FaceThreadReply) => {
    if (message.kind === 'ready') {
      loading = false;
      markReady(message.models);
      holdProcess();
    } else if (message.kind === 'load-failed')
      fail(new Error(`face models did not load: ${message.message}`));
    else {
      answered(message.id);
      if (message.kind === 'faces') settle(message.id, { faces: message.faces });
      else settle(message.id, { error: new Error(message.message) });
    }
  });
  worker.on('error', (error) => fail(new Error(`the face search thread failed: ${error.message}`)));
  worker.on('exit', (code) => fail(new Error(`the face search thread exited (code ${code})`)));
  // An aborted analysis does not wait for its frames: those not sent are dropped, the thread skips the rest.
  const abandon = (id: number, signal: AbortSignal) => {
    const at = queued.findIndex((entry) => entry.id === id);
    if (at >= 0) queued.splice(at, 1);
    else worker.postMessage({ kind: 'cancel', id } satisfies FaceThreadRequest);
    settle(id, { error: signal.reason instanceof Error ? signal.reason : new Error('aborted') });
  };
  // One abort listener per signal, however many of its frames wait (a sample has dozens).
  const watched = new Map<AbortSignal, { ids: Set<number>; onAbort: () => void }>();
  const watch = (signal: AbortSignal, id: number) => {
    let entry = watched.get(signal);
    if (!entry) {
      const ids = new Set<number>();
      const onAbort = () => [...ids].forEach((pending) => abandon(pending, signal));
      entry = { ids, onAbort };
      watched.set(signal, entry);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    entry.ids.add(id);
  };
  const unwatch = (signal: AbortSignal, id: number) => {
    const entry = watched.get(signal);
    if (!entry) return;
    entry.ids.delete(id);
    if (entry.ids.size > 0) return;
    signal.removeEventListener('abort', entry.onAbort);
    watched.delete(signal);
  };
  return {
    ready,
    async close() {
      fail(new Error('the face search thread was closed'));
      await worker.terminate();
    },
    detect(frame, signal) {
      if (dead) return Promise.reject(dead);
      signal.throwIfAborted();
      const id = nextId++;
      const found = new Promise<FaceObservation[]>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        holdProcess();
        queued.push({ id, frame });
        pump();
      });
      watch(signal, id);
      return found.finally(() => unwatch(signal, id));
    },
  };
}
