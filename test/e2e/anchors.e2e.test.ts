import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyPairSignerFromBytes, lamports } from '@solana/kit';
import { LiteSVM } from 'litesvm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuardian, startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';
import { startLiteSvmJsonRpc, type LiteSvmJsonRpc } from '../helpers/litesvm-json-rpc.js';
import { solanaKeypairFileText } from '../helpers/litesvm-solana-transport.js';
import { createUnrelatedCaPem, startLocalTsa, type LocalTsa } from '../helpers/local-tsa.js';
import { generateStill } from '../helpers/media-fixtures.js';
import { createOrgsAndKeys, getJson, uploadMultipart, waitForAnalysis, type Keys } from './upload-flow.js';

interface AnchorView {
  kind: string;
  status: string;
  treeSize: number;
  reason: string | null;
}

describe('anchors end to end: analysis → tree head → anchor jobs (local TSA, litesvm RPC) → bundle → verify', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guardian-e2e-anchors-'));
  const offline = { DATA_DIR: join(dir, 'nowhere'), DATABASE_URL: '' };
  let tsa: LocalTsa;
  let svm: LiteSVM;
  let rpc: LiteSvmJsonRpc;
  let server: RunningGuardian;
  let keys: Keys;
  let clip: string;
  let bundlePath: string;
  let rootFile: string;
  let otherRootFile: string;
  let logKeyFile: string;

  beforeAll(async () => {
    tsa = await startLocalTsa();
    svm = new LiteSVM();
    rpc = await startLiteSvmJsonRpc(svm);
    rootFile = join(dir, 'tsa-root.pem');
    writeFileSync(rootFile, tsa.caPem);
    otherRootFile = join(dir, 'other-root.pem');
    writeFileSync(otherRootFile, await createUnrelatedCaPem(dir));
    const keypairFile = join(dir, 'anchor-keypair.json');
    const keypairText = solanaKeypairFileText();
    writeFileSync(keypairFile, keypairText, { mode: 0o600 });
    const payer = await createKeyPairSignerFromBytes(new Uint8Array(JSON.parse(keypairText) as number[]));
    svm.airdrop(payer.address, lamports(1_000_000_000n));
    const env = {
      DATA_DIR: join(dir, 'data'),
      PORT: '0',
      WORKER_CONCURRENCY: '1',
      TSA_URL: tsa.url,
      TSA_TRUSTED_ROOTS_FILE: rootFile,
      SOLANA_RPC_URL: rpc.url,
      SOLANA_KEYPAIR_FILE: keypairFile,
      SOLANA_CLUSTER: 'localnet',
      ANCHOR_INTERVAL_SECONDS: '0',
    };
    server = await startGuardian('serve', env);
    keys = await createOrgsAndKeys(env);
    clip = await generateStill(dir, { format: 'png', size: '160x120', name: 'anchored' });
    const uploaded = await uploadMultipart(server.url ?? '', keys.analyst, clip, 'anchored.png');
    expect(uploaded.status).toBe(201);
    const { analysisId } = (await uploaded.json()) as { analysisId: string };
    const analysis = await waitForAnalysis(server.url ?? '', keys.analyst, analysisId);
    expect(analysis.status, JSON.stringify(analysis.error)).toBe('done');

    // The statement's head is signed as the analysis completes; each kind's job anchors it.
    const deadline = Date.now() + 60_000;
    let anchors: AnchorView[] = [];
    for (;;) {
      const listed = await getJson(server.url ?? '', keys.viewer, '/api/v1/log/anchors');
      expect(listed.status).toBe(200);
      anchors = (listed.body as { anchors: AnchorView[] }).anchors;
      const done = ['rfc3161', 'solana'].every((kind) =>
        anchors.some(
          (anchor) => anchor.kind === kind && anchor.status === 'anchored' && anchor.treeSize >= 1,
        ),
      );
      if (done) break;
      if (Date.now() > deadline)
        throw new Error(`anchors not anchored: ${JSON.stringify(anchors)}\n${server.logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const response = await fetch(`${server.url}/api/v1/analyses/${analysisId}/evidence`, {
      headers: { authorization: `Bearer ${keys.viewer}` },
    });
    expect(response.status).toBe(200);
    bundlePath = join(dir, 'evidence.json');
    writeFileSync(bundlePath, Buffer.from(await response.arrayBuffer()));
    const published = (await (await fetch(`${server.url}/api/v1/log/keys`)).json()) as {
      keys: { publicKeyPem: string }[];
    };
    logKeyFile = join(dir, 'log-key.pem');
    writeFileSync(logKeyFile, published.keys[0]!.publicKeyPem);
  }, 300_000);

  afterAll(async () => {
    const code = await server?.stop();
    await rpc?.close();
    await tsa?.close();
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('lists the anchors to any signed-in role, and to nobody else', async () => {
    expect((await getJson(server.url ?? '', null, '/api/v1/log/anchors')).status).toBe(401);
    const listed = await getJson(
      server.url ?? '',
      keys.viewer,
      '/api/v1/log/anchors?status=anchored&kind=rfc3161',
    );
    const body = listed.body as { configured: string[]; anchors: (AnchorView & { rfc3161: unknown })[] };
    expect(body.configured).toEqual(['rfc3161', 'solana']);
    expect(body.anchors.length).toBeGreaterThan(0);
    for (const anchor of body.anchors) expect(anchor).toMatchObject({ kind: 'rfc3161', status: 'anchored' });
    expect(body.anchors[0]!.rfc3161).toMatchObject({ tsaName: expect.stringContaining('Guardian Test TSA') });
  });

  it('verifies every check, anchors included, with the TSA root and the RPC URL; --strict passes too', async () => {
    const bundle = JSON.parse(readFileSync(bundlePath, 'utf8')) as {
      anchors: { type: string; status: string }[];
    };
    expect(bundle.anchors.map((anchor) => `${anchor.type}:${anchor.status}`).sort()).toEqual([
      'rfc3161:anchored',
      'solana:anchored',
    ]);
    const args = ['verify', bundlePath, '--media', clip, '--trusted-key', logKeyFile, '--tsa-root', rootFile];
    const result = await runGuardian([...args, '--solana-rpc', rpc.url, '--strict'], offline);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('PASS  anchor-rfc3161');
    expect(result.stdout).toContain('PASS  anchor-solana');
    expect(result.stdout).toContain('verified: every check passed');
  });

  it('says what it could not check without a root or an RPC URL: exit 0, but 1 with --strict', async () => {
    const args = ['verify', bundlePath, '--media', clip, '--trusted-key', logKeyFile];
    const lenient = await runGuardian(args, offline);
    expect(lenient.code, lenient.stdout).toBe(0);
    expect(lenient.stdout).toMatch(/SKIP {2}anchor-rfc3161: .*certificate chain was NOT checked/);
    expect(lenient.stdout).toMatch(/SKIP {2}anchor-solana: not checked \(no RPC URL\)/);
    expect(lenient.stdout).toContain('(2 could not be checked, see SKIP)');
    const strict = await runGuardian([...args, '--strict'], offline);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('NOT VERIFIED (--strict)');
  });

  it('fails with another root, and with a flipped byte in the token', async () => {
    const other = await runGuardian(['verify', bundlePath, '--tsa-root', otherRootFile], offline);
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/FAIL {2}anchor-rfc3161: .*certificate-chain/);

    const bundle = JSON.parse(readFileSync(bundlePath, 'utf8')) as {
      anchors: { type: string; token?: string; treeHeadSha256: string }[];
    };
    const entry = bundle.anchors.find((anchor) => anchor.type === 'rfc3161')!;
    const token = Buffer.from(entry.token!, 'base64');
    token[token.indexOf(Buffer.from(entry.treeHeadSha256, 'hex')) + 3]! ^= 1;
    const text = readFileSync(bundlePath, 'utf8').replace(entry.token!, token.toString('base64'));
    const tampered = join(dir, 'tampered-token.json');
    writeFileSync(tampered, text);
    const result = await runGuardian(['verify', tampered, '--tsa-root', rootFile], offline);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL {2}anchor-rfc3161: .*message-imprint/);
  });

  it('POST /api/v1/verify checks the token against the roots it is given, and never asks Solana', async () => {
    const bundle = JSON.parse(readFileSync(bundlePath, 'utf8')) as unknown;
    const ask = async (tsaRootsPem?: string[]) => {
      const response = await fetch(`${server.url}/api/v1/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ bundle, ...(tsaRootsPem ? { tsaRootsPem } : {}) }),
      });
      expect(response.status).toBe(200);
      const verdict = (await response.json()) as { ok: boolean; checks: { name: string; status: string }[] };
      const statusOf = (name: string) => verdict.checks.find((check) => check.name === name)?.status;
      return { ok: verdict.ok, rfc3161: statusOf('anchor-rfc3161'), solana: statusOf('anchor-solana') };
    };
    expect(await ask([tsa.caPem])).toEqual({ ok: true, rfc3161: 'passed', solana: 'not-checked' });
    expect(await ask()).toEqual({ ok: true, rfc3161: 'not-checked', solana: 'not-checked' });
    expect(await ask([readFileSync(otherRootFile, 'utf8')])).toEqual({
      ok: false,
      rfc3161: 'failed',
      solana: 'not-checked',
    });
  });
});
