import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatformApp, type PlatformApp } from '../authorization/platform-app.js';
import { startNginx, type RunningNginx } from './nginx-harness.js';

const run = promisify(execFile);

// protocols, standard cipher categories, forward secrecy, server preference, certificate and server defaults,
// HTTP headers, every vulnerability check. Left out: -e (all 370 ciphers one by one) and -c (client simulations),
// which take most of a full run and judge nothing -p -s -f -P do not.
const checks = ['-p', '-s', '-f', '-P', '-S', '-h', '-U'];

/** Findings of HIGH or CRITICAL that only the self-signed test certificate causes, and why. */
export const excusedFindings: Record<string, string> = {
  cert_chain_of_trust:
    'self-signed: no public CA signed the test certificate (--add-ca names it, so testssl usually trusts it)',
  cert_revocation: 'a self-signed certificate carries no CRL or OCSP URI; a CA-issued one does',
};

interface Finding {
  id: string;
  severity: string;
  finding: string;
}

describe('testssl.sh 3.0.8 against deploy/nginx/guardian.conf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-testssl-'));
  let platformApp: PlatformApp;
  let nginx: RunningNginx;

  beforeAll(async () => {
    platformApp = await openPlatformApp({ TRUSTED_PROXIES: 'loopback' });
    await platformApp.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = platformApp.app.server.address() as AddressInfo;
    nginx = await startNginx({
      dir: join(dir, 'nginx'),
      upstream: `127.0.0.1:${port}`,
      maxUploadBytes: 20 * 1024 ** 3,
    });
  });

  afterAll(async () => {
    await nginx?.stop();
    await platformApp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds no HIGH or CRITICAL issue but those of the self-signed test certificate', async () => {
    const jsonFile = join(dir, 'testssl.json');
    const started = Date.now();
    // testssl's exit status counts what it rated, not whether it ran: the JSON is the verdict.
    const exit = await run(
      'testssl',
      [
        ...['--quiet', '--color', '0', '--warnings', 'batch', '--nodns', 'none'],
        ...['--connect-timeout', '10', '--openssl-timeout', '10'],
        ...['--add-ca', nginx.certFile, '--jsonfile', jsonFile],
        ...checks,
        `127.0.0.1:${nginx.httpsPort}`,
      ],
      { timeout: 18 * 60_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, TERM: 'dumb' } },
    ).then(
      () => 0,
      (error: { code?: unknown; killed?: boolean }) => {
        if (error.killed || typeof error.code !== 'number') throw error;
        return error.code;
      },
    );
    const findings = JSON.parse(readFileSync(jsonFile, 'utf8')) as Finding[];
    console.log(
      `testssl took ${Math.round((Date.now() - started) / 1000)} s, exit ${exit}, ${findings.length} findings`,
    );

    expect(findings.find((finding) => finding.id === 'scanTime')?.finding).not.toMatch(/interrupted/i);
    // What the configuration promises, read from testssl's own findings.
    const byId = new Map(findings.map((finding) => [finding.id, finding.finding]));
    expect(byId.get('TLS1')).toMatch(/not offered/);
    expect(byId.get('TLS1_1')).toMatch(/not offered/);
    expect(byId.get('TLS1_2')).toMatch(/^offered/);
    expect(byId.get('TLS1_3')).toMatch(/^offered/);
    expect(byId.get('HSTS_time')).toMatch(/63072000/);

    const serious = findings.filter(
      (finding) =>
        (finding.severity === 'HIGH' || finding.severity === 'CRITICAL') && !(finding.id in excusedFindings),
    );
    expect(serious).toEqual([]);
  });
});
