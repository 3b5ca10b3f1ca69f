import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Detector, DetectorArtifact, DetectorContext, DetectorFinding } from '../detector.js';
import type { DetectorPoolTask } from './detector-pool-task.js';
import { pooledDetectorFactories } from './pooled-detectors.js';

export interface DetectorPool {
  /** Threads at most (started on demand, ended after a minute idle). */
  readonly threads: number;
  /** Wraps a detector that can run in a thread so its analysis does; any other is returned as it is. */
  wrap(detector: Detector): Detector;
  /** Ends the threads; analyses still running in them fail. */
  close(): Promise<void>;
}

const idleTimeoutMs = 60_000;

/** `threads` 0: one per processor this process may use. */
export function detectorThreadCount(threads: number): number {
  return threads > 0 ? threads : availableParallelism();
}

/**
 * Pixel detectors in worker threads, so they run side by side with each other, with decoding and with the
 * face search instead of taking turns on the main thread (which also serves HTTP in embedded mode).
 */
export function createDetectorPool(settings: { threads: number }): DetectorPool {
  // From the sources (tsx, vitest) the task module is TypeScript: the threads load it through tsx.
  const fromSource = import.meta.url.endsWith('.ts');
  const threads = detectorThreadCount(settings.threads);
  const pool = new Piscina<DetectorPoolTask, DetectorFinding>({
    filename: new URL(`./detector-pool-task.${fromSource ? 'ts' : 'js'}`, import.meta.url).href,
    name: 'default',
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: idleTimeoutMs,
    ...(fromSource ? { execArgv: ['--import', 'tsx'] } : {}),
  });

  function wrap(detector: Detector): Detector {
    if (!(detector.id in pooledDetectorFactories)) return detector;
    // Detectors are plain objects: the same one, its analysis run in a thread.
    return { ...detector, analyze: (context) => analyzeInPool(detector, context) };
  }

  async function analyzeInPool(detector: Detector, context: DetectorContext): Promise<DetectorFinding> {
    // In the order the detectors ask for them: a frame failure is reported before a face failure.
    const sample = await context.frames();
    const faces = await context.faces();
    context.signal.throwIfAborted();
    // Nothing to measure: the detector says so here (the same code), without starting a thread for it.
    if (!faces.tracks.some((track) => track.analysed)) return detector.analyze(context);
    const finding = await pool.run(
      { detectorId: detector.id, sizeBytes: context.sizeBytes, probe: context.probe, sample, faces },
      { signal: context.signal },
    );
    return finding.artifacts ? { ...finding, artifacts: finding.artifacts.map(asBufferArtifact) } : finding;
  }

  return { threads, wrap, close: () => pool.destroy() };
}

/** Artifact bytes come back from the thread as a plain Uint8Array. */
function asBufferArtifact(artifact: DetectorArtifact): DetectorArtifact {
  const data = artifact.data as Uint8Array;
  return { ...artifact, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
}
