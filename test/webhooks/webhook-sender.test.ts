import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendWebhook } from '../../src/webhooks/webhook-sender.js';
import { openLoopbackReceiver } from './loopback-receiver.js';

let receiver: Awaited<ReturnType<typeof openLoopbackReceiver>>;

beforeAll(async () => {
  receiver = await openLoopbackReceiver();
  receiver.answerWith((request, _index, response) => {
    if (request.path === '/redirect') response.writeHead(302, { location: '/elsewhere' }).end();
    else if (request.path === '/slow') setTimeout(() => response.writeHead(200).end('late'), 1500);
    else if (request.path === '/big') response.writeHead(500).end(`\u0000oops ${'x'.repeat(100_000)}`);
    else response.writeHead(200).end('ok');
  });
});

afterAll(() => receiver.close());

const send = (host: string, path: string, timeoutMs = 2000) =>
  sendWebhook({
    destination: { url: new URL(`http://${host}:${receiver.port}${path}`), address: '127.0.0.1', family: 4 },
    headers: { 'content-type': 'application/json' },
    body: '{"type":"webhook.test"}',
    timeoutMs,
  });

describe('webhook sender', () => {
  it('connects to the checked address, not to a new lookup of the name (pinned)', async () => {
    // `.invalid` never resolves (RFC 6761): reaching the receiver proves no second DNS query was made.
    const result = await send('pinned.invalid', '/pinned');
    expect(result).toMatchObject({ status: 200, excerpt: 'ok', error: null });
    const [request] = receiver.to('/pinned');
    expect(request?.headers.host).toBe(`pinned.invalid:${receiver.port}`);
    expect(request?.body).toBe('{"type":"webhook.test"}');
  });

  it('does not follow redirects', async () => {
    const result = await send('127.0.0.1', '/redirect');
    expect(result.status).toBe(302);
    expect(receiver.to('/elsewhere')).toHaveLength(0);
  });

  it('times out, and keeps only a short printable excerpt of a body', async () => {
    const slow = await send('127.0.0.1', '/slow', 200);
    expect(slow).toMatchObject({ status: null, error: 'no response within 200 ms' });
    const big = await send('127.0.0.1', '/big');
    expect(big.status).toBe(500);
    expect(big.excerpt?.startsWith('oops xxx')).toBe(true);
    expect(big.excerpt?.length).toBeLessThanOrEqual(200);
  });

  it('reports a refused connection as an error, not a status', async () => {
    const result = await sendWebhook({
      destination: { url: new URL('http://127.0.0.1:1/'), address: '127.0.0.1', family: 4 },
      headers: {},
      body: '{}',
      timeoutMs: 2000,
    });
    expect(result).toMatchObject({ status: null, error: 'ECONNREFUSED' });
  });
});
