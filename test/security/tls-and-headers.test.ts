import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { createLocalhostCertificate } from '../helpers/tls-certificate.js';

const run = promisify(execFile);
const scanner = fileURLToPath(
  new URL('../../node_modules/@mdn/mdn-http-observatory/src/scan.js', import.meta.url),
);
const preloadList = fileURLToPath(
  new URL('../../node_modules/@mdn/mdn-http-observatory/conf/hsts-preload.json', import.meta.url),
);

// The scanner's postinstall downloads Chromium's HSTS preload list, which cannot be fetched here (and is
// installed with --ignore-scripts); localhost is on no preload list, so an empty list is the true answer.
function ensurePreloadList(): void {
  if (!existsSync(preloadList)) writeFileSync(preloadList, '{}\n');
}

// The Observatory scans a host name on the standard ports, so this suite owns 443 and 80 on loopback.
describe('HTTPS deployment: TLS policy, redirect and MDN HTTP Observatory grade', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-tls-'));
  const { certFile, keyFile } = createLocalhostCertificate(dir);
  let server: RunningGuardian;

  beforeAll(async () => {
    ensurePreloadList();
    server = await startGuardian('serve', {
      DATA_DIR: join(dir, 'data'),
      HOST: '127.0.0.1',
      PORT: '443',
      HTTP_REDIRECT_PORT: '80',
      TLS_CERT_FILE: certFile,
      TLS_KEY_FILE: keyFile,
    });
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores A+ on the MDN HTTP Observatory (offline scanner)', async () => {
    const { stdout } = await run(process.execPath, [scanner, 'localhost'], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: certFile },
      timeout: 60_000,
    });
    const result = JSON.parse(stdout) as {
      scan?: { grade: string; score: number };
      tests?: Record<string, { pass: boolean; result: string }>;
      error?: string;
    };
    const failing = Object.entries(result.tests ?? {})
      .filter(([, test]) => !test.pass)
      .map(([name, test]) => `${name}: ${test.result}`);
    expect(result.error, stdout).toBeUndefined();
    expect({ grade: result.scan?.grade, failing }).toEqual({ grade: 'A+', failing: [] });
  });

  it('sends HSTS for at least a year with includeSubDomains', async () => {
    const headers = await tlsGet('/livez', certFile);
    expect(headers).toMatch(/^HTTP\/1\.1 200/);
    const hsts = /strict-transport-security: max-age=(\d+)([^\r\n]*)/i.exec(headers);
    expect(Number(hsts?.[1])).toBeGreaterThanOrEqual(31_536_000);
    expect(hsts?.[2]).toMatch(/includeSubDomains/i);
  });

  it('redirects plain HTTP to HTTPS', async () => {
    const location = await new Promise<{ status?: number; location?: string }>((resolve, reject) => {
      httpRequest(
        { host: '127.0.0.1', port: 80, path: '/api/v1/media?x=1', headers: { host: 'localhost' } },
        (response) => {
          response.resume();
          resolve({ status: response.statusCode, location: response.headers.location });
        },
      )
        .on('error', reject)
        .end();
    });
    expect(location).toEqual({ status: 301, location: 'https://localhost/api/v1/media?x=1' });
  });

  it('refuses TLS 1.1 and non-AEAD TLS 1.2 suites, accepts TLS 1.2 ECDHE-GCM and TLS 1.3', async () => {
    expect(await handshake({ maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }, certFile)).toBe('refused');
    expect(
      await handshake(
        {
          maxVersion: 'TLSv1.2',
          ciphers: 'ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:AES128-SHA256:AES128-GCM-SHA256',
        },
        certFile,
      ),
    ).toBe('refused');
    expect(
      await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, certFile),
    ).toBe('TLSv1.2');
    expect(await handshake({ minVersion: 'TLSv1.3' }, certFile)).toBe('TLSv1.3');
  });
});

function handshake(
  options: { minVersion?: 'TLSv1' | 'TLSv1.3'; maxVersion?: 'TLSv1.1' | 'TLSv1.2'; ciphers?: string },
  caFile: string,
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(
      { host: '127.0.0.1', port: 443, servername: 'localhost', ca: [readCa(caFile)], ...options },
      () => {
        const version = socket.getProtocol() ?? 'unknown';
        socket.end();
        resolve(version);
      },
    );
    socket.on('error', () => resolve('refused'));
  });
}

function tlsGet(path: string, caFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port: 443, servername: 'localhost', ca: [readCa(caFile)] },
      () => {
        socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      },
    );
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('end', () => resolve(data.split('\r\n\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

function readCa(file: string): Buffer {
  return readFileSync(file);
}
