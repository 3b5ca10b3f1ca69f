import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { generateClip } from '../helpers/media-fixtures.js';
import { createOrgsAndKeys, uploadMultipart, waitForAnalysis } from '../e2e/upload-flow.js';
import { reportFigure } from './figures.js';

// DATA_DIR on a small tmpfs of its own (mounting needs root, as CI runs): filled, then freed.
const skipReason = process.getuid?.() === 0 ? null : 'needs root to mount a small tmpfs for DATA_DIR';
if (skipReason && process.env.CI === 'true') throw new Error(`CI needs this suite: ${skipReason}`);
const fileSystemMiB = 160;
const leaveFreeMiB = 2;

/** Every file (directories aside) under blobs and upload staging: what an upload could leave behind. */
function storedFiles(dataDir: string): string[] {
  return ['blobs', 'uploads'].flatMap((sub) => {
    try {
      return readdirSync(join(dataDir, sub), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name));
    } catch {
      return [];
    }
  });
}

describe.skipIf(skipReason !== null)('DATA_DIR filling up during an upload (embedded mode)', () => {
  let dir: string;
  let mount: string;
  let dataDir: string;
  let server: RunningGuardian;
  let key: string;
  let mounted = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'guardian-disk-full-'));
    mount = join(dir, 'fs');
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${fileSystemMiB}m`, 'tmpfs', mount]);
    mounted = true;
    dataDir = join(mount, 'data');
    const env = { DATA_DIR: dataDir, PORT: '0', LIFECYCLE_INTERVAL_SECONDS: '0' };
    server = await startGuardian('serve', env);
    key = (await createOrgsAndKeys(env)).analyst;
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    if (mounted) execFileSync('umount', ['-l', mount]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers 507 problem+json, keeps nothing of the upload, and takes uploads again once space is freed', async () => {
    const ballast = join(mount, 'ballast');
    const { bavail, bsize } = statfsSync(mount);
    writeFileSync(ballast, Buffer.alloc(Math.max(bavail * bsize - leaveFreeMiB * 2 ** 20, 0)));
    const before = storedFiles(dataDir);

    const tooBig = join(dir, 'too-big.mp4');
    writeFileSync(tooBig, randomBytes(8 * 2 ** 20));
    const started = performance.now();
    const refused = await uploadMultipart(server.url!, key, tooBig);
    const refusedMs = Math.round(performance.now() - started);
    expect(refused.status).toBe(507);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await refused.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ status: 507, code: 'insufficient-storage' });
    expect(JSON.stringify(problem)).not.toMatch(/ENOSPC|\/tmp\//);
    expect(storedFiles(dataDir)).toEqual(before);
    const suite = 'disk-full';
    reportFigure({
      suite,
      measure: '8 MiB upload with 2 MiB free',
      value: `${refused.status} in ${refusedMs} ms`,
      target: '507 problem+json',
      met: true,
    });
    reportFigure({ suite, measure: 'files left of the refused upload', value: '0', target: '0', met: true });

    rmSync(ballast);
    const clip = await generateClip(dir, { seconds: 1, size: '160x120', fps: 10, name: 'after-freeing' });
    const accepted = await uploadMultipart(server.url!, key, clip);
    expect(accepted.status, await accepted.clone().text()).toBe(201);
    const { analysisId } = (await accepted.json()) as { analysisId: string };
    expect((await waitForAnalysis(server.url!, key, analysisId)).status).toBe('done');
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    reportFigure({
      suite,
      measure: 'upload after freeing space',
      value: '201, analysis done',
      target: '201',
      met: true,
    });
  }, 120_000);
});
