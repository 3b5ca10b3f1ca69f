import type { AnalysisPipeline } from '../pipeline/analysis-pipeline.js';
import type { DetectorReport } from '../pipeline/report.js';
import type { JobHandlers, JobName } from '../queue/job-table.js';
import type { MediaService } from '../services/media.service.js';
import type { GuardianMetrics } from './guardian-metrics.js';

/** Times every job handler by name and outcome; errors pass through unchanged so the queue still retries. */
export function instrumentJobHandlers(
  handlers: JobHandlers,
  metrics: Pick<GuardianMetrics, 'jobDuration'>,
): JobHandlers {
  const timed = (name: JobName, handler: (payload: never, context: never) => Promise<void>) => {
    return async (payload: never, context: never) => {
      const stop = metrics.jobDuration.startTimer({ job_name: name });
      try {
        await handler(payload, context);
        stop({ outcome: 'succeeded' });
      } catch (error) {
        stop({ outcome: 'failed' });
        throw error;
      }
    };
  };
  return Object.fromEntries(
    Object.entries(handlers).map(([name, handler]) => [name, timed(name as JobName, handler)]),
  ) as unknown as JobHandlers;
}

/** Records each detector's own duration from the report every finished analysis returns. */
export function instrumentPipeline(
  pipeline: AnalysisPipeline,
  metrics: Pick<GuardianMetrics, 'detectorDuration'>,
): AnalysisPipeline {
  return {
    version: pipeline.version,
    async run(request) {
      const report = await pipeline.run(request);
      for (const detector of report.detectors)
        metrics.detectorDuration.observe(
          { detector: detector.id, outcome: detectorOutcome(detector) },
          detector.durationMs / 1000,
        );
      return report;
    },
  };
}

function detectorOutcome(report: DetectorReport): string {
  if (!report.applicable) return 'not_applicable';
  if (report.score !== null) return 'scored';
  return report.reason?.startsWith('detector failed:') ? 'failed' : 'abstained';
}

/** Counts finished uploads (multipart `upload`, resumable `adoptStored`) and the bytes of stored ones. */
export function instrumentUploads(
  media: MediaService,
  metrics: Pick<GuardianMetrics, 'uploads' | 'uploadBytes'>,
): MediaService {
  const counted = async <T extends { sizeBytes: number }>(
    method: 'multipart' | 'resumable',
    upload: () => Promise<T>,
  ): Promise<T> => {
    try {
      const stored = await upload();
      metrics.uploads.inc({ method, outcome: 'stored' });
      metrics.uploadBytes.inc({ method }, stored.sizeBytes);
      return stored;
    } catch (error) {
      metrics.uploads.inc({ method, outcome: 'rejected' });
      throw error;
    }
  };
  return {
    ...media,
    upload: (input) => counted('multipart', () => media.upload(input)),
    adoptStored: (input) => counted('resumable', () => media.adoptStored(input)),
  };
}
