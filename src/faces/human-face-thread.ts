import { parentPort, workerData } from 'node:worker_threads';
import type { SampledFrame } from '../pipeline/frames/frame-sample.js';
import type { FaceObservation } from './face-types.js';
import { openHumanRuntime } from './human-runtime.js';

/** What the face finder sends its thread: a frame to search (its pixels transferred), or one to skip. */
export type FaceThreadRequest =
  | { kind: 'detect'; id: number; frame: Omit<SampledFrame, 'data'> & { data: Uint8Array } }
  | { kind: 'cancel'; id: number };

export type FaceThreadReply =
  | { kind: 'ready'; models: Record<string, string> }
  | { kind: 'load-failed'; message: string }
  | { kind: 'faces'; id: number; faces: FaceObservation[] }
  | { kind: 'failed'; id: number; message: string };

// The worker-thread side of the face finder: Human's WASM inference runs here, off the main thread, so
// the main thread keeps reading ffmpeg's frames and running detectors meanwhile.
const port = parentPort;
if (!port) throw new Error('human-face-thread runs only as a worker thread');
const reply = (message: FaceThreadReply) => port.postMessage(message);
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

const runtime = openHumanRuntime(workerData as { maxFacesPerFrame: number });
runtime.then(
  ({ models }) => reply({ kind: 'ready', models }),
  (error: unknown) => reply({ kind: 'load-failed', message: message(error) }),
);
// One frame at a time, in the order sent: one Human instance.
let queue: Promise<unknown> = runtime;
const cancelled = new Set<number>();
port.on('message', (request: FaceThreadRequest) => {
  if (request.kind === 'cancel') {
    cancelled.add(request.id);
    return;
  }
  const { id, frame } = request;
  queue = queue
    .then(async () => {
      // Still answered, so the finder knows the thread is free for the next frame.
      if (cancelled.delete(id)) return reply({ kind: 'failed', id, message: 'cancelled' });
      const { detect } = await runtime;
      const data = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
      reply({ kind: 'faces', id, faces: await detect({ ...frame, data }) });
    })
    .catch((error: unknown) => reply({ kind: 'failed', id, message: message(error) }));
});
