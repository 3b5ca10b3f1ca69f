import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  formatElapsed,
  initialProgress,
  stageWords,
  type AnalysisProgress,
  type EventsServerMessage,
} from '../../web/src/live/analysis-progress.js';

const analysisId = '11111111-1111-4111-8111-111111111111';
const ids = {
  orgId: '22222222-2222-4222-8222-222222222222',
  analysisId,
  mediaId: '33333333-3333-4333-8333-333333333333',
};
const at = '2026-01-01T00:00:00.000Z';

function fold(messages: [EventsServerMessage, number][]): AnalysisProgress {
  return messages.reduce(
    (state, [message, receivedAt]) => applyEvent(state, message, analysisId, receivedAt),
    initialProgress,
  );
}

const progress = (stage: string, phase: 'started' | 'finished', value: number): EventsServerMessage => ({
  type: 'analysis.progress',
  ...ids,
  status: 'running',
  stage,
  progress: value,
  phase,
  at,
});

describe('live analysis progress from WebSocket messages', () => {
  it('times each stage from its start to its finish, in the order the stages began', () => {
    const state = fold([
      [{ type: 'subscribed', orgId: ids.orgId, analysisId }, 0],
      [{ type: 'analysis.state', ...ids, status: 'queued', stage: null, progress: 0, band: null, at }, 10],
      [progress('probe', 'started', 0.05), 100],
      [progress('probe', 'finished', 0.1), 400],
      [progress('detector:gop-double-compression', 'started', 0.2), 500],
      [progress('detector:noise', 'started', 0.2), 510],
    ]);
    expect(state.status).toBe('running');
    expect(state.startedAt).toBe(100);
    expect(state.stages).toEqual([
      { name: 'probe', startedAt: 100, finishedAt: 400 },
      { name: 'detector:gop-double-compression', startedAt: 500, finishedAt: null },
      { name: 'detector:noise', startedAt: 510, finishedAt: null },
    ]);
  });

  it('ends with the final band, closing the stages whose finish it missed, and keeps a preliminary band apart', () => {
    const state = fold([
      [progress('frames', 'started', 0.3), 100],
      [
        {
          type: 'analysis.preliminary',
          ...ids,
          status: 'running',
          stage: 'preliminary',
          progress: 0.4,
          preliminary: true,
          band: 'inconclusive',
          detectors: ['metadata-traces'],
          pending: ['noise'],
          at,
        },
        150,
      ],
      [
        {
          type: 'analysis.done',
          ...ids,
          status: 'done',
          stage: 'report',
          progress: 1,
          band: 'no_indicators',
          at,
        },
        900,
      ],
    ]);
    expect(state).toMatchObject({
      status: 'done',
      band: 'no_indicators',
      preliminaryBand: 'inconclusive',
      finishedAt: 900,
    });
    expect(state.stages).toEqual([{ name: 'frames', startedAt: 100, finishedAt: 900 }]);
  });

  it('after a reconnect keeps the furthest progress it saw, and takes the band from the state message', () => {
    const state = fold([
      [progress('faces', 'started', 0.6), 100],
      [
        { type: 'analysis.state', ...ids, status: 'running', stage: 'faces', progress: 0.5, band: null, at },
        200,
      ],
      [
        {
          type: 'analysis.state',
          ...ids,
          status: 'done',
          stage: 'report',
          progress: 1,
          band: 'indicators_found',
          at,
        },
        300,
      ],
    ]);
    expect(state).toMatchObject({ status: 'done', progress: 1, band: 'indicators_found', finishedAt: 300 });
  });

  it('ignores messages about other analyses and records a subscription error', () => {
    const other = {
      ...progress('probe', 'started', 0.1),
      analysisId: '44444444-4444-4444-8444-444444444444',
    };
    expect(fold([[other, 1]])).toEqual(initialProgress);
    const failed = fold([[{ type: 'error', code: 'not-found', detail: 'analysis not found' }, 1]]);
    expect(failed.error).toBe('analysis not found');
  });

  it('marks a failed analysis as ended', () => {
    const state = fold([
      [progress('probe', 'started', 0.05), 100],
      [{ type: 'analysis.failed', ...ids, status: 'failed', stage: 'probe', progress: 0.05, at }, 300],
    ]);
    expect(state).toMatchObject({ status: 'failed', band: null, finishedAt: 300 });
    expect(state.stages[0]?.finishedAt).toBe(300);
  });

  it('says elapsed times and stage names in words', () => {
    expect([0, 400, 9_949, 9_960, 12_400, 59_600, 125_000, -5].map(formatElapsed)).toEqual([
      '0.0 s',
      '0.4 s',
      '9.9 s',
      '10 s',
      '12 s',
      '1 min 0 s',
      '2 min 5 s',
      '0.0 s',
    ]);
    expect(stageWords('detector:gop-double-compression')).toBe('Detector gop-double-compression');
    expect(stageWords('probe')).toBe('Reading the container');
    expect(stageWords('something-new')).toBe('something-new');
  });
});
