import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateStill } from '../helpers/media-fixtures.js';
import { runGuardian, startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { createOrgsAndKeys, getJson, uploadMultipart, waitForAnalysis, type Keys } from './upload-flow.js';

describe('evidence end to end: upload → analysis → bundle → offline `guardian verify --media`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-e2e-evidence-'));
  const env = { DATA_DIR: join(dir, 'data'), PORT: '0', WORKER_CONCURRENCY: '1' };
  // The verifier runs where no server, database or configuration is: an empty, unrelated DATA_DIR.
  const offline = { DATA_DIR: join(dir, 'nowhere'), DATABASE_URL: '' };
  let server: RunningGuardian;
  let keys: Keys;
  let clip: string;
  let analysisId: string;
  let bundlePath: string;

  beforeAll(async () => {
    server = await startGuardian('serve', env);
    keys = await createOrgsAndKeys(env);
    // A still keeps the analysis short; the evidence path is the same for every kind of media.
    clip = await generateStill(dir, { format: 'png', size: '160x120', name: 'evidence' });
    const uploaded = await uploadMultipart(server.url ?? '', keys.analyst, clip, 'evidence.png');
    expect(uploaded.status).toBe(201);
    analysisId = ((await uploaded.json()) as { analysisId: string }).analysisId;
    const analysis = await waitForAnalysis(server.url ?? '', keys.analyst, analysisId);
    expect(analysis.status, JSON.stringify(analysis.error)).toBe('done');
    // The worker logs the statement as the analysis completes, before anyone asks for the bundle.
    const deadline = Date.now() + 15_000;
    let head = await getJson(server.url ?? '', keys.viewer, '/api/v1/log/tree-head');
    while (head.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      head = await getJson(server.url ?? '', keys.viewer, '/api/v1/log/tree-head');
    }
    expect(head.body).toMatchObject({ treeSize: 1 });
    const response = await fetch(`${server.url}/api/v1/analyses/${analysisId}/evidence`, {
      headers: { authorization: `Bearer ${keys.viewer}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="evidence-${analysisId}.json"`,
    );
    bundlePath = join(dir, 'evidence.json');
    writeFileSync(bundlePath, Buffer.from(await response.arrayBuffer()));
  }, 240_000);

  afterAll(async () => {
    const code = await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('verifies offline with the media file and the key the log publishes', async () => {
    const published = await fetch(`${server.url}/api/v1/log/keys`);
    expect(published.status).toBe(200);
    const { keys: logKeys } = (await published.json()) as { keys: { keyId: string; publicKeyPem: string }[] };
    const keyFile = join(dir, 'log-key.pem');
    writeFileSync(keyFile, logKeys[0]!.publicKeyPem);
    const result = await runGuardian(
      ['verify', bundlePath, '--media', clip, '--trusted-key', keyFile],
      offline,
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    for (const check of [
      'statement-signature',
      'report-hash',
      'inclusion-proof',
      'tree-head-signature',
      'trusted-key',
      'media-hash',
    ])
      expect(result.stdout).toContain(`PASS  ${check}`);
    expect(result.stdout).toContain('SKIP  anchors');
    const bundle = JSON.parse(readFileSync(bundlePath, 'utf8')) as {
      statement: { media: { sha256: string } };
    };
    expect(bundle.statement.media.sha256).toBe(createHash('sha256').update(readFileSync(clip)).digest('hex'));
  });

  it('fails with another media file, and after a single-byte change to the bundle', async () => {
    const other = join(dir, 'other.bin');
    writeFileSync(other, 'not the media');
    const wrongMedia = await runGuardian(['verify', bundlePath, '--media', other, '--json'], offline);
    expect(wrongMedia.code).toBe(1);
    const verdict = JSON.parse(wrongMedia.stdout) as {
      ok: boolean;
      checks: { name: string; status: string }[];
    };
    expect(verdict.checks.filter((check) => check.status === 'failed').map((check) => check.name)).toEqual([
      'media-hash',
    ]);
    const text = readFileSync(bundlePath, 'utf8');
    const at = text.indexOf('"band":"') + 8;
    const tampered = join(dir, 'tampered.json');
    writeFileSync(tampered, `${text.slice(0, at)}X${text.slice(at + 1)}`);
    const result = await runGuardian(['verify', tampered, '--media', clip], offline);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FAIL  report-hash');
  });

  it('checks the same bundle through POST /api/v1/verify, and serves its proofs without authentication', async () => {
    const bundle = JSON.parse(readFileSync(bundlePath, 'utf8')) as {
      leafIndex: number;
      treeHead: { treeSize: number };
      statement: { media: { sha256: string } };
    };
    const verified = await fetch(`${server.url}/api/v1/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ bundle, mediaSha256: bundle.statement.media.sha256 }),
    });
    expect(verified.status).toBe(200);
    expect(((await verified.json()) as { ok: boolean }).ok).toBe(true);
    const proof = await getJson(
      server.url ?? '',
      null,
      `/api/v1/log/proofs/inclusion?leafIndex=${bundle.leafIndex}&treeSize=${bundle.treeHead.treeSize}`,
    );
    expect(proof.status).toBe(200);
    expect((await getJson(server.url ?? '', null, '/api/v1/log/tree-head')).status).toBe(401);
    expect((await getJson(server.url ?? '', keys.viewer, '/api/v1/log/tree-head')).status).toBe(200);
  });

  it("answers another organisation's request for the bundle with 404", async () => {
    const response = await getJson(
      server.url ?? '',
      keys.otherOrgAnalyst,
      `/api/v1/analyses/${analysisId}/evidence`,
    );
    expect(response.status).toBe(404);
  });

  it('`guardian log check` finds the log intact, through the running server', async () => {
    const result = await runGuardian(['log', 'check'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/transparency log intact: 1 leaves, \d+ signed tree heads/);
  });

  it("`guardian log rotate-key` swaps the running server's key; the old bundle still verifies", async () => {
    const rotated = await runGuardian(['log', 'rotate-key'], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/new key: [0-9a-f]{64}/);
    const { keys: logKeys } = (await (await fetch(`${server.url}/api/v1/log/keys`)).json()) as {
      keys: { keyId: string; retiredAt: string | null }[];
    };
    expect(logKeys.map((key) => key.retiredAt === null)).toEqual([false, true]);
    const old = logKeys[0]!.keyId;
    const result = await runGuardian(['verify', bundlePath, '--media', clip, '--trusted-key', old], offline);
    expect(result.code, result.stdout).toBe(0);
    const check = await runGuardian(['log', 'check'], env);
    expect(check.code, check.stderr).toBe(0);
  });
});
