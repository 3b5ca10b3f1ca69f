import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultHttpStack, Upload } from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  bearer,
  createOrganisationWithKeys,
  openPlatformApp,
  type PlatformApp,
  type RoleKeys,
} from '../authorization/platform-app.js';
import { generateClip } from '../helpers/media-fixtures.js';
import { startNginx, type RunningNginx } from './nginx-harness.js';

// nginx's upload limit is rendered from the same figure: MAX_UPLOAD_BYTES + 64 KiB multipart framing.
const maxUploadBytes = 1024 * 1024;
// The client connects from another loopback address than nginx, so the address the app sees tells them apart.
const clientAddress = '127.0.0.2';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('deploy/nginx/guardian.conf in front of the platform (Debian nginx, HTTPS)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-nginx-'));
  let platformApp: PlatformApp;
  let nginx: RunningNginx;
  let keys: RoleKeys;
  let ca: Buffer;
  let clip: Buffer;
  let clipPath: string;

  const send = (
    method: string,
    path: string,
    options: { headers?: Record<string, string | number>; body?: Buffer; port?: number } = {},
  ): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const outgoing = request(
        {
          host: '127.0.0.1',
          port: options.port ?? nginx.httpsPort,
          localAddress: clientAddress,
          ca,
          agent: false,
          method,
          path,
          headers: options.headers,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks).toString(),
            }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(options.body);
    });

  const multipart = (file: Buffer, key: string) => {
    const boundary = `guardian-${randomBytes(8).toString('hex')}`;
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
      ),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    return send('POST', '/api/v1/media', {
      headers: { ...bearer(key), 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
  };

  beforeAll(async () => {
    const [opened, generated] = await Promise.all([
      openPlatformApp({ TRUSTED_PROXIES: 'loopback', MAX_UPLOAD_BYTES: String(maxUploadBytes) }),
      generateClip(dir, { name: 'proxied', seconds: 2, size: '320x240', fps: 25, noise: 20 }),
    ]);
    platformApp = opened;
    clipPath = generated;
    clip = readFileSync(clipPath);
    await platformApp.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = platformApp.app.server.address() as AddressInfo;
    keys = (await createOrganisationWithKeys(platformApp.platform, 'Proxied')).keys;
    nginx = await startNginx({ dir: join(dir, 'nginx'), upstream: `127.0.0.1:${port}`, maxUploadBytes });
    ca = readFileSync(nginx.certFile);
  });

  afterAll(async () => {
    await nginx?.stop();
    await platformApp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves over TLS with HSTS, redirects plain HTTP and refuses TRACE', async () => {
    const live = await send('GET', '/livez');
    expect(live.status, nginx.errorLog()).toBe(200);
    expect(live.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    expect(live.headers['content-security-policy']).toContain("default-src 'none'");

    const redirect = await new Promise<Reply>((resolve, reject) => {
      import('node:http').then(({ request: plain }) => {
        const outgoing = plain(
          { host: '127.0.0.1', port: nginx.httpPort, path: '/livez?x=1' },
          (response) => {
            response.resume();
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: '' });
          },
        );
        outgoing.on('error', reject);
        outgoing.end();
      }, reject);
    });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('https://127.0.0.1/livez?x=1');

    expect((await send('TRACE', '/livez')).status).toBe(405);
  });

  it('takes a multipart upload, and the app sees the client address, not a forged X-Forwarded-For', async () => {
    const uploaded = await multipart(clip, keys.analyst);
    expect(uploaded.status, `${uploaded.body} ${JSON.stringify(uploaded.headers)}`).toBe(201);
    const { id } = JSON.parse(uploaded.body) as { id: string };

    // Deleting is audited with the request's address (Fastify request.ip under TRUSTED_PROXIES).
    const deleted = await send('DELETE', `/api/v1/media/${id}`, {
      headers: { ...bearer(keys.analyst), 'x-forwarded-for': '203.0.113.9' },
    });
    expect(deleted.status, deleted.body).toBe(204);
    const audit = await send('GET', '/api/v1/audit-events?limit=20', { headers: bearer(keys.admin) });
    expect(audit.status, audit.body).toBe(200);
    const events = (JSON.parse(audit.body) as { events: { action: string; ip: string | null }[] }).events;
    expect(events.find((event) => event.action === 'media.delete')?.ip).toBe(clientAddress);
  });

  it('carries a chunked tus upload (POST, PATCH, HEAD, OPTIONS with Upload-* headers)', async () => {
    const options = await send('OPTIONS', '/api/v1/uploads', { headers: bearer(keys.analyst) });
    expect(options.status, options.body).toBe(204);
    expect(options.headers['tus-max-size']).toBe(String(maxUploadBytes));

    const finished = await new Promise<{ url: string; mediaId: string | undefined }>((resolve, reject) => {
      const upload: Upload = new Upload(createReadStream(clipPath), {
        endpoint: `https://127.0.0.1:${nginx.httpsPort}/api/v1/uploads`,
        httpStack: new DefaultHttpStack({ ca, localAddress: clientAddress }),
        uploadSize: clip.length,
        // Whole 64 KiB segments: the encrypted staging store acknowledges no partial segment mid-upload.
        chunkSize: 128 * 1024,
        retryDelays: [],
        headers: bearer(keys.analyst),
        metadata: { filename: 'tus-clip.mp4' },
        onError: reject,
        onSuccess: ({ lastResponse }) =>
          resolve({ url: upload.url ?? '', mediaId: lastResponse.getHeader('guardian-media-id') }),
      });
      upload.start();
    });
    expect(clip.length).toBeGreaterThan(2 * 128 * 1024);
    expect(finished.mediaId).toMatch(/^[0-9a-f-]{36}$/);

    const head = await send('HEAD', new URL(finished.url).pathname, {
      headers: { ...bearer(keys.analyst), 'tus-resumable': '1.0.0' },
    });
    expect(head.status).toBe(200);
    expect(head.headers['upload-offset']).toBe(String(clip.length));
    expect(head.headers['guardian-media-id']).toBe(finished.mediaId);
  });

  it('upgrades the events WebSocket through the proxy', async () => {
    const uploaded = await multipart(clip, keys.analyst);
    expect(uploaded.status, `${uploaded.body} ${JSON.stringify(uploaded.headers)}`).toBe(201);
    const { analysisId } = JSON.parse(uploaded.body) as { analysisId: string };
    const socket = new WebSocket(
      `wss://127.0.0.1:${nginx.httpsPort}/api/v1/events?analysisId=${analysisId}`,
      { ca, localAddress: clientAddress, headers: bearer(keys.viewer) },
    );
    const messages = await new Promise<{ type: string; analysisId?: string }[]>((resolve, reject) => {
      const received: { type: string; analysisId?: string }[] = [];
      const timer = setTimeout(() => reject(new Error(`only ${JSON.stringify(received)}`)), 10_000);
      socket.on('message', (data: WebSocket.RawData) => {
        received.push(JSON.parse(data.toString()) as { type: string });
        if (received.length === 2) {
          clearTimeout(timer);
          resolve(received);
        }
      });
      socket.on('error', reject);
    });
    socket.close();
    expect(messages.map((message) => message.type)).toEqual(['subscribed', 'analysis.state']);
    expect(messages[1]?.analysisId).toBe(analysisId);
  });

  it('refuses bodies past client_max_body_size itself, as problem+json, before the app reads them', async () => {
    const oversized = Buffer.alloc(maxUploadBytes + 64 * 1024 + 1);
    for (const [method, path, headers] of [
      ['POST', '/api/v1/media', { 'content-type': 'multipart/form-data; boundary=x' }],
      ['PATCH', '/api/v1/uploads/abcdefgh12', { 'content-type': 'application/offset+octet-stream' }],
      ['POST', '/api/v1/auth/login', { 'content-type': 'application/json' }],
    ] as const) {
      const refused = await send(method, path, {
        headers: { ...bearer(keys.analyst), ...headers },
        body: oversized,
      }).catch((error: NodeJS.ErrnoException) => ({
        status: -1,
        headers: {} as IncomingHttpHeaders,
        body: error.code ?? '',
      }));
      expect(refused.status, `${method} ${path}: ${refused.body}`).toBe(413);
      expect(refused.headers['content-type']).toBe('application/problem+json');
      // The app's own refusal says upload-too-large; this one is nginx's.
      expect(JSON.parse(refused.body)).toMatchObject({ status: 413, code: 'request-too-large' });
    }
    expect(nginx.errorLog()).toMatch(/client intended to send too large body/);
  });
});
