import { describe, expect, it } from 'vitest';
import {
  applyLiveMessage,
  initialLiveStatus,
  type EventsServerMessage,
} from '../../web/src/pages/report/live-status.js';

const analysisId = '6f1c1a52-3a53-4d5e-9c44-0d6f4e1d2b10';
const base = {
  orgId: '0b7c4c7e-62a4-4bd3-a4f4-5d6f0a4c6d21',
  analysisId,
  mediaId: '9e2b6e0a-2a4f-4f0e-8a77-3a0a5f1b0c33',
  at: '2026-12-05T04:00:00.000Z',
};
const progress = (stage: string, value: number, status: 'running' | 'done' | 'failed' = 'running') =>
  ({ type: 'analysis.progress', ...base, status, stage, progress: value }) as EventsServerMessage;

describe('the report page’s live status', () => {
  it('starts from the REST view (percent) and follows progress without moving backwards', () => {
    let status = initialLiveStatus('queued', null, 0);
    status = applyLiveMessage(status, progress('probe', 0.1), analysisId);
    expect(status).toMatchObject({ status: 'running', stage: 'probe', progress: 0.1 });
    status = applyLiveMessage(status, progress('detector:face-temporal', 0.6), analysisId);
    status = applyLiveMessage(status, progress('detector:av-offset', 0.4), analysisId);
    expect(status).toMatchObject({ stage: 'detector:av-offset', progress: 0.6 });
    expect(initialLiveStatus('running', 'frames', 40).progress).toBe(0.4);
  });

  it('keeps the preliminary band apart from the status, with the checks still pending', () => {
    const preliminary = {
      type: 'analysis.preliminary',
      ...base,
      status: 'running',
      stage: 'preliminary',
      progress: 0.3,
      preliminary: true,
      band: 'no_indicators',
      detectors: ['gop-double-compression', 'metadata-traces'],
      pending: ['face-temporal'],
    } as EventsServerMessage;
    const status = applyLiveMessage(initialLiveStatus('running', 'frames', 20), preliminary, analysisId);
    expect(status).toMatchObject({
      preliminaryBand: 'no_indicators',
      pending: ['face-temporal'],
      progress: 0.2,
    });
  });

  it('ends on done or failed and ignores anything after the end', () => {
    const done = applyLiveMessage(
      initialLiveStatus('running', 'report', 90),
      {
        ...progress('report', 1, 'done'),
        type: 'analysis.done',
        band: 'inconclusive',
      } as EventsServerMessage,
      analysisId,
    );
    expect(done.status).toBe('done');
    expect(applyLiveMessage(done, progress('probe', 0.1), analysisId)).toBe(done);
    const failed = applyLiveMessage(
      initialLiveStatus('running', 'frames', 10),
      { ...progress('frames', 0.1, 'failed'), type: 'analysis.failed' } as EventsServerMessage,
      analysisId,
    );
    expect(failed.status).toBe('failed');
  });

  it('ignores other analyses and the subscription notice, and records a refusal', () => {
    const start = initialLiveStatus('running', 'frames', 10);
    const other = { ...progress('probe', 0.9), analysisId: '11111111-2222-4333-8444-555555555555' };
    expect(applyLiveMessage(start, other as EventsServerMessage, analysisId)).toBe(start);
    const subscribed = { type: 'subscribed', orgId: base.orgId, analysisId } as EventsServerMessage;
    expect(applyLiveMessage(start, subscribed, analysisId)).toBe(start);
    const refused = applyLiveMessage(
      start,
      { type: 'error', code: 'not-found', detail: 'analysis deleted' } as EventsServerMessage,
      analysisId,
    );
    expect(refused.refused).toBe('analysis deleted');
  });
});
