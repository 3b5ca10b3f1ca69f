import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { createOrgsAndKeys, uploadMultipart, waitForAnalysis, type Keys } from './upload-flow.js';

// ffmpeg, a server start and CLI runs: slow on a loaded machine, still bounded.
const setupTimeoutMs = 180_000;

interface EventMessage {
  type: string;
  orgId?: string;
  analysisId?: string | null;
  mediaId?: string;
  status?: string;
  stage?: string | null;
  phase?: string;
  progress?: number;
  band?: string | null;
  preliminary?: boolean;
  pending?: string[];
}

const messageTimeoutMs = 30_000;

/** A WebSocket on /api/v1/events that keeps every message it receives. */
class EventsSocket {
  readonly messages: EventMessage[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData) => {
      this.messages.push(JSON.parse(data.toString()) as EventMessage);
      for (const wake of this.waiters) wake();
    });
  }

  static async open(baseUrl: string, key: string, query = ''): Promise<EventsSocket> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/events${query}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const events = new EventsSocket(socket);
    await events.waitFor((message) => message.type === 'subscribed');
    return events;
  }

  /** Resolves with the first message (already received or to come) that matches. */
  waitFor(match: (message: EventMessage) => boolean, timeoutMs = messageTimeoutMs): Promise<EventMessage> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.find(match);
        if (!found) return;
        finish();
        resolve(found);
      };
      const onClose = () => {
        finish();
        reject(new Error(`socket closed; received ${JSON.stringify(this.messages)}`));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no matching event in ${timeoutMs} ms; received ${JSON.stringify(this.messages)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        this.socket.off('close', onClose);
        this.socket.off('error', onClose);
      };
      this.waiters.add(check);
      this.socket.on('close', onClose);
      this.socket.on('error', onClose);
      check();
    });
  }

  close(): void {
    this.socket.terminate();
  }
}

/** Opens a WebSocket that the server should refuse; resolves with the HTTP status and body of the refusal. */
function refusedUpgrade(
  baseUrl: string,
  headers: Record<string, string>,
  query = '',
): Promise<{ status: number; contentType: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/events${query}`, { headers });
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('the upgrade was neither accepted nor refused'));
    }, messageTimeoutMs);
    socket.on('error', () => {});
    socket.on('open', () => {
      clearTimeout(timer);
      socket.terminate();
      reject(new Error('the WebSocket was accepted'));
    });
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        clearTimeout(timer);
        socket.terminate();
        resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'], body });
      });
    });
  });
}

describe('progress events over the WebSocket on guardian serve (embedded)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-e2e-events-'));
  const env = { DATA_DIR: join(dir, 'data'), PORT: '0' };
  const clip = join(dir, 'clip.mp4');
  const sockets: EventsSocket[] = [];
  let server: RunningGuardian | undefined;
  let keys: Keys;
  let baseUrl: string;

  const open = async (key: string, query = '') => {
    const socket = await EventsSocket.open(baseUrl, key, query);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', '6'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-g', '25', '-pix_fmt', 'yuv420p', '-y', clip],
    ]);
    server = await startGuardian('serve', env);
    baseUrl = server.url ?? '';
    keys = await createOrgsAndKeys(env);
  }, setupTimeoutMs);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    const code = await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('streams progress of an upload to its organisation, ending with analysis.done, and to no one else', async () => {
    const newsroom = await open(keys.viewer);
    const otherOrg = await open(keys.otherOrgAnalyst);
    const orgId = newsroom.messages[0]?.orgId;
    expect(orgId).toMatch(/^[0-9a-f-]{36}$/);
    expect(otherOrg.messages[0]?.orgId).not.toBe(orgId);

    const response = await uploadMultipart(baseUrl, keys.analyst, clip);
    const uploaded = (await response.json()) as { id: string; analysisId: string };
    expect(response.status, JSON.stringify(uploaded)).toBe(201);
    const filtered = await open(keys.analyst, `?analysisId=${uploaded.analysisId}`);

    const done = await newsroom.waitFor(
      (message) =>
        message.analysisId === uploaded.analysisId &&
        (message.type === 'analysis.done' || message.type === 'analysis.failed'),
    );
    expect(done).toMatchObject({
      type: 'analysis.done',
      status: 'done',
      progress: 1,
      mediaId: uploaded.id,
      orgId,
    });
    expect(done.band).toBe('no_indicators');

    const ofUpload = newsroom.messages.filter((message) => message.analysisId === uploaded.analysisId);
    expect(ofUpload.at(-1)).toBe(done);
    // The preliminary band (packet and metadata detectors) comes once, marked, before the face detectors end.
    const preliminary = ofUpload.filter((message) => message.type === 'analysis.preliminary');
    expect(preliminary).toHaveLength(1);
    expect(preliminary[0]).toMatchObject({ status: 'running', preliminary: true, stage: 'preliminary' });
    expect(preliminary[0]?.pending).toContain('face-noise-mismatch');
    const faceDone = ofUpload.findIndex(
      (message) => message.stage === 'detector:face-noise-mismatch' && message.phase === 'finished',
    );
    expect(ofUpload.indexOf(preliminary[0]!)).toBeLessThan(faceDone);
    expect(done).not.toHaveProperty('preliminary');
    const progress = ofUpload.slice(0, -1).filter((message) => message.type !== 'analysis.preliminary');
    // Every detector is named as it starts and as it finishes.
    for (const id of ['gop-double-compression', 'metadata-traces', 'face-noise-mismatch', 'face-temporal']) {
      for (const phase of ['started', 'finished'])
        expect(
          progress.some((message) => message.stage === `detector:${id}` && message.phase === phase),
        ).toBe(true);
    }
    expect(progress.length).toBeGreaterThan(1);
    for (const message of progress) {
      expect(message).toMatchObject({
        type: 'analysis.progress',
        status: 'running',
        orgId,
        mediaId: uploaded.id,
      });
    }
    const fractions = ofUpload.map((message) => message.progress ?? -1);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(new Set(progress.map((message) => message.stage)).size).toBeGreaterThan(1);

    // A socket filtered on this analysis (opened after the upload) gets its state at once, then sees it finish.
    const current = await filtered.waitFor((message) => message.type === 'analysis.state');
    expect(filtered.messages.indexOf(current)).toBe(1);
    expect(current.analysisId).toBe(uploaded.analysisId);
    await filtered.waitFor(
      (message) =>
        message.type === 'analysis.done' || (message.type === 'analysis.state' && message.status === 'done'),
    );
    expect(
      filtered.messages.every((m) => m.type === 'subscribed' || m.analysisId === uploaded.analysisId),
    ).toBe(true);

    // The analysis is finished, so every event about it has been sent to every subscriber by now.
    const finished = await waitForAnalysis(baseUrl, keys.analyst, uploaded.analysisId);
    expect(finished.status).toBe('done');
    expect(otherOrg.messages.map((message) => message.type)).toEqual(['subscribed']);

    // A subscriber that comes after the end gets the outcome at once, not silence.
    const late = await open(keys.viewer, `?analysisId=${uploaded.analysisId}`);
    const state = await late.waitFor((message) => message.type === 'analysis.state');
    expect(state).toMatchObject({
      status: 'done',
      progress: 1,
      band: finished.band,
      mediaId: uploaded.id,
      orgId,
    });
  });

  it("refuses a filter on another organisation's analysis, or an unknown one, with 404 before the upgrade", async () => {
    const response = await uploadMultipart(baseUrl, keys.analyst, clip);
    const uploaded = (await response.json()) as { analysisId: string };
    expect(response.status).toBe(201);
    for (const analysisId of [uploaded.analysisId, randomUUID()]) {
      const refused = await refusedUpgrade(
        baseUrl,
        { authorization: `Bearer ${keys.otherOrgAnalyst}` },
        `?analysisId=${analysisId}`,
      );
      expect(refused.status).toBe(404);
      expect(refused.contentType).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(refused.body)).toMatchObject({ code: 'not-found' });
      expect(refused.body).not.toContain(uploaded.analysisId);
    }
  });

  it('answers a plain GET (no upgrade) with 426 problem+json and Upgrade: websocket', async () => {
    const response = await fetch(`${baseUrl}/api/v1/events`, {
      headers: { authorization: `Bearer ${keys.viewer}` },
    });
    expect(response.status).toBe(426);
    expect(response.headers.get('upgrade')).toBe('websocket');
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 426, code: 'upgrade-required' });
  });

  it('refuses a WebSocket without credentials, or with a wrong key, with 401 problem+json', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer sag_${'0'.repeat(43)}` }];
    for (const headers of attempts) {
      const refused = await refusedUpgrade(baseUrl, headers);
      expect(refused.status).toBe(401);
      expect(refused.contentType).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(refused.body)).toMatchObject({ code: 'unauthenticated', status: 401 });
    }
  });

  it('refuses a malformed analysisId filter with 400', async () => {
    const refused = await refusedUpgrade(
      baseUrl,
      { authorization: `Bearer ${keys.viewer}` },
      '?analysisId=x',
    );
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'validation-failed' });
  });
});
