import { z } from 'zod';
import type { Analysis } from '../db/schema.js';
import type { AnalysisProgressEvent } from '../events/event-bus.js';
import { bandSchema } from './schemas.js';

// Every message is one JSON text frame; the ids (zod's global registry) name them in components.schemas.
const analysisStatus = z.enum(['queued', 'running', 'done', 'failed']);
const analysisFields = {
  orgId: z.uuid(),
  analysisId: z.uuid(),
  mediaId: z.uuid(),
  status: analysisStatus,
  stage: z
    .string()
    .nullable()
    .describe(
      'pipeline stage: `start`, `probe`, `frames`, `faces`, `detector:<id>` (e.g. `detector:gop-double-compression`), `preliminary`, `fusion`, `report`',
    ),
  progress: z.number().min(0).max(1).describe('fraction 0–1 (the REST view gives percent)'),
};

export const subscribedMessage = z
  .object({
    type: z.literal('subscribed'),
    orgId: z.uuid(),
    analysisId: z.uuid().nullable().describe('the `?analysisId=` filter, or null for every analysis'),
  })
  .meta({
    id: 'EventsSubscribedMessage',
    description: 'First message on every connection.',
  });

export const analysisStateMessage = z
  .object({
    type: z.literal('analysis.state'),
    ...analysisFields,
    band: bandSchema.nullable().describe('set once the analysis is done'),
    at: z.iso.datetime().describe('when the analysis last changed'),
  })
  .meta({
    id: 'EventsAnalysisStateMessage',
    description:
      'Sent once, right after `subscribed`, on a connection filtered by `?analysisId=`: where that analysis stands now, so a late subscriber need not wait for the next event. Events older than this state are not sent after it.',
  });

export const analysisEventMessage = z
  .object({
    type: z.enum(['analysis.progress', 'analysis.done', 'analysis.failed']),
    ...analysisFields,
    phase: z
      .enum(['started', 'finished'])
      .optional()
      .describe(
        'on `analysis.progress` from the pipeline: whether the stage started or finished; detectors run together, so several may be started at once',
      ),
    band: bandSchema.nullable().optional().describe('present on `analysis.done`'),
    at: z.iso.datetime().describe('when the worker published the event'),
  })
  .meta({
    id: 'EventsAnalysisEventMessage',
    description:
      'Progress of an analysis of the organisation as the worker reports it (`analysis.progress`), and its end (`analysis.done` with the band, or `analysis.failed`).',
  });

export const analysisPreliminaryMessage = z
  .object({
    type: z.literal('analysis.preliminary'),
    ...analysisFields,
    status: z.literal('running'),
    preliminary: z.literal(true).describe('always true: this band is not the analysis result'),
    band: bandSchema.describe(
      'fused from the detectors that need no decoded frames (metadata, packets) only; the final band may differ',
    ),
    detectors: z.array(z.string()).describe('ids of the detectors this band fuses'),
    pending: z.array(z.string()).describe('ids of the detectors still running, which the final band adds'),
    at: z.iso.datetime().describe('when the worker published the preliminary band'),
  })
  .meta({
    id: 'EventsAnalysisPreliminaryMessage',
    description:
      'An early band, sent once while the analysis runs, before the frame and face detectors finish. It is never stored: the analysis and its report carry only the final band (`analysis.done`). Not sent when the media fails the intake check or no detector needs frames.',
  });

export const errorMessage = z
  .object({ type: z.literal('error'), code: z.string(), detail: z.string() })
  .meta({
    id: 'EventsErrorMessage',
    description:
      'The subscription cannot go on (e.g. the analysis was deleted): the server closes the connection right after, with close code 4000 + the HTTP status of `code` (4404 for `not-found`), or 1011.',
  });

export const eventsServerMessage = z
  .discriminatedUnion('type', [
    subscribedMessage,
    analysisStateMessage,
    analysisEventMessage,
    analysisPreliminaryMessage,
    errorMessage,
  ])
  .meta({
    id: 'EventsServerMessage',
    description:
      'Any message the server sends on `/api/v1/events`. Messages a client sends are ignored (at most 4 KiB).',
  });

export type AnalysisStateMessage = z.infer<typeof analysisStateMessage>;
export type EventsServerMessage =
  | z.infer<typeof subscribedMessage>
  | AnalysisStateMessage
  | AnalysisProgressEvent
  | z.infer<typeof errorMessage>;

export function analysisStateOf(analysis: Analysis): AnalysisStateMessage {
  return {
    type: 'analysis.state',
    orgId: analysis.org_id,
    analysisId: analysis.id,
    mediaId: analysis.media_id,
    status: analysis.status,
    stage: analysis.stage,
    progress: analysis.progress,
    band: analysis.status === 'done' ? analysis.band : null,
    at: analysis.updated_at.toISOString(),
  };
}

const statusRank = { queued: 0, running: 1, done: 2, failed: 2 } as const;

/** Whether an event tells a subscriber more than the state it already has (later status, or more progress). */
export function advancesPast(event: AnalysisProgressEvent, state: AnalysisStateMessage): boolean {
  const eventRank = statusRank[event.status];
  const stateRank = statusRank[state.status];
  if (eventRank !== stateRank) return eventRank > stateRank;
  // The state never holds the preliminary band (it is not stored): while running, it is always news.
  if (event.type === 'analysis.preliminary') return eventRank < 2;
  return eventRank < 2 && event.progress > state.progress;
}
