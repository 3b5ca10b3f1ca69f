import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { describeUploadContract } from './upload-contract.js';
import { generateClip } from '../helpers/media-fixtures.js';

const limitBytes = 3 * 1024 * 1024;

describe('guardian serve on embedded defaults (PGlite, embedded queue, encrypted files)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-e2e-embedded-'));
  const env = { DATA_DIR: join(dir, 'data'), PORT: '0', MAX_UPLOAD_BYTES: String(limitBytes) };
  let server: RunningGuardian;

  beforeAll(async () => {
    server = await startGuardian('serve', env);
  });

  afterAll(async () => {
    const code = await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  describeUploadContract(() => ({
    baseUrl: server.url ?? '',
    env,
    dataDir: env.DATA_DIR,
    limitBytes,
    workDir: dir,
  }));

  it('refuses a second process on the same embedded database with a clear message', async () => {
    const second = await startGuardian('serve', env).then(
      async (unexpected) => {
        await unexpected.stop();
        return null;
      },
      (error: Error) => error.message,
    );
    expect(second).toMatch(/in use by process \d+/);
  });

  it('`guardian analyze FILE --json` prints a report with no server', async () => {
    const clip = await generateClip(dir, { name: 'standalone', seconds: 3, size: '320x240', fps: 25 });
    const { runGuardian } = await import('../helpers/guardian-process.js');
    const result = await runGuardian(['analyze', clip, '--json'], { DATA_DIR: join(dir, 'unused') });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      band: string;
      detectors: { id: string }[];
      media: { sha256: string };
    };
    // A clean single encode: its FFmpeg encoder tag is a weak cue and must not make it inconclusive.
    expect(report.band).toBe('no_indicators');
    expect(report.detectors.map((detector) => detector.id)).toEqual(
      expect.arrayContaining(['gop-double-compression', 'metadata-traces']),
    );
    expect(report.media.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
