import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lamports, createKeyPairSignerFromBytes } from '@solana/kit';
import { sql } from 'kysely';
import { LiteSVM } from 'litesvm';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  createSolanaAnchorer,
  createTimestampAnchorer,
  type Anchorer,
} from '../../../src/evidence/anchors/anchorer.js';
import { createRpcSolanaTransport } from '../../../src/evidence/anchors/solana/rpc-solana-transport.js';
import type { EvidenceBundle } from '../../../src/evidence/evidence-bundle.js';
import { treeHeadDigest } from '../../../src/evidence/tree-head.js';
import { verifyEvidenceBundle } from '../../../src/evidence/verify-bundle.js';
import type { JobName } from '../../../src/queue/job-table.js';
import type { AnchorRecord } from '../../../src/repositories/anchor.repository.js';
import { createAnchorService } from '../../../src/services/anchor.service.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../../helpers/databases.js';
import { startLiteSvmJsonRpc, type LiteSvmJsonRpc } from '../../helpers/litesvm-json-rpc.js';
import { solanaKeypairFileText } from '../../helpers/litesvm-solana-transport.js';
import { createUnrelatedCaPem, startLocalTsa, type LocalTsa } from '../../helpers/local-tsa.js';
import { openEvidenceWorld, type EvidenceWorld } from '../evidence-fixtures.js';

const policy = { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 240_000, factor: 2 };
const signal = new AbortController().signal;
const noWait = () => Promise.resolve();

describeEachImplementation('tree head anchors', databaseImplementations(), (implementation) => {
  let database: TestDatabase;
  let world: EvidenceWorld;
  let tsa: LocalTsa;
  let otherRoot: string;
  let svm: LiteSVM;
  let rpc: LiteSvmJsonRpc;
  let dir: string;
  let clock: Date;
  let enqueued: { name: JobName; jobId: string; delayMs: number }[];

  beforeAll(async () => {
    database = await implementation.open();
    world = await openEvidenceWorld(database, testLogger());
    tsa = await startLocalTsa();
    dir = await mkdtemp(join(tmpdir(), 'guardian-anchor-test-'));
    otherRoot = await createUnrelatedCaPem(dir);
    svm = new LiteSVM();
    rpc = await startLiteSvmJsonRpc(svm);
  });

  afterAll(async () => {
    await rpc?.close();
    await tsa?.close();
    await world?.close();
    await database?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    // Each test starts with no anchors; the trigger refuses DELETE, so the test disables it on its own store.
    await sql`alter table log_anchors disable trigger log_anchors_transition_only`.execute(database.db);
    await sql`delete from log_anchors`.execute(database.db);
    await sql`alter table log_anchors enable trigger log_anchors_transition_only`.execute(database.db);
    tsa.setBehaviour('reply');
    clock = new Date('2030-01-01T00:00:00Z');
    enqueued = [];
  });

  const serviceWith = (
    anchorers: Anchorer[],
    options: { intervalSeconds?: number; secrets?: string[] } = {},
  ) =>
    createAnchorService({
      anchors: world.anchors,
      anchorers,
      queue: {
        enqueue: async (name, _payload, { jobId, delayMs }) =>
          void enqueued.push({ name, jobId, delayMs: delayMs ?? 0 }),
      },
      intervalSeconds: options.intervalSeconds ?? 0,
      policy,
      secrets: options.secrets ?? [],
      now: () => clock,
      logger: testLogger(),
    });
  const tsaAnchorer = (roots = [tsa.caPem]) =>
    createTimestampAnchorer({ tsaUrl: tsa.url, trustedRoots: roots });
  const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));
  const anchorsOf = async (kind: 'rfc3161' | 'solana'): Promise<AnchorRecord[]> =>
    (await world.anchors.list({ limit: 100, kind })).reverse();

  async function loggedAnalysis() {
    const finished = await world.finishedAnalysis();
    await world.transparencyLog.record(finished.analysisId);
    return finished;
  }

  const statusOf = (result: Awaited<ReturnType<typeof verifyEvidenceBundle>>, name: string) =>
    result.checks.filter((check) => check.name === name).map((check) => check.status);

  it('analysis → tree head → anchor job → bundle with the token, which verifies with the root only', async () => {
    const service = serviceWith([tsaAnchorer()]);
    const { orgId, analysisId } = await loggedAnalysis();
    await service.run('rfc3161', { signal });

    const [anchor] = await anchorsOf('rfc3161');
    const head = (await world.transparencyLog.latestTreeHead())!;
    expect(anchor).toMatchObject({ status: 'anchored', attempts: 1, tree_size: head.treeSize, reason: null });
    expect(anchor!.tree_head_sha256).toBe(treeHeadDigest(head));
    expect(anchor!.tsa_token!.length).toBeGreaterThan(500);
    expect(anchor!.tsa_name).toContain('Guardian Test TSA');

    // A later statement: its head is not anchored (yet), and the first bundle keeps the anchored head.
    const later = await loggedAnalysis();
    const bundle = await world.evidence.bundle(orgId, analysisId);
    expect(bundle.treeHead.treeSize).toBe(anchor!.tree_size);
    expect(bundle.anchors).toEqual([
      expect.objectContaining({
        type: 'rfc3161',
        status: 'anchored',
        treeHeadSha256: anchor!.tree_head_sha256,
      }),
    ]);
    const withRoot = await verifyEvidenceBundle(bundle, { tsaRoots: [tsa.caPem] });
    expect(withRoot.ok).toBe(true);
    expect(statusOf(withRoot, 'anchor-rfc3161')).toEqual(['passed']);

    const noRoot = await verifyEvidenceBundle(bundle);
    expect(noRoot.ok).toBe(true);
    expect(noRoot.complete).toBe(false);
    expect(statusOf(noRoot, 'anchor-rfc3161')).toEqual(['not-checked']);
    expect(noRoot.checks.find((check) => check.name === 'anchor-rfc3161')?.detail).toMatch(
      /chain was NOT checked/,
    );

    const otherRootResult = await verifyEvidenceBundle(bundle, { tsaRoots: [otherRoot] });
    expect(otherRootResult.ok).toBe(false);
    expect(statusOf(otherRootResult, 'anchor-rfc3161')).toEqual(['failed']);

    // Bytes the TSA signed (the imprint, genTime in the TSTInfo) and the signature itself.
    const entry = bundle.anchors[0] as { token: string; genTime: string };
    const token = Buffer.from(entry.token, 'base64');
    const imprintAt = token.indexOf(Buffer.from(anchor!.tree_head_sha256, 'hex'));
    const genTimeAt = token.indexOf(Buffer.from(entry.genTime.slice(0, 4)));
    expect(imprintAt).toBeGreaterThan(0);
    expect(genTimeAt).toBeGreaterThan(0);
    for (const at of [imprintAt + 7, genTimeAt + 3, token.length - 5]) {
      const flipped = Buffer.from(token);
      flipped[at]! ^= 1;
      const tampered = structuredClone(bundle) as EvidenceBundle;
      (tampered.anchors[0] as { token: string }).token = flipped.toString('base64');
      const result = await verifyEvidenceBundle(tampered, { tsaRoots: [tsa.caPem] });
      expect(statusOf(result, 'anchor-rfc3161'), `byte ${at}`).toEqual(['failed']);
    }
    // Every other byte of the token too, signed by the TSA or not: the log key signs the anchors as a whole.
    const unnoticed: number[] = [];
    for (let at = 0; at < token.length; at += 1) {
      const flipped = Buffer.from(token);
      flipped[at]! ^= 1;
      const tampered = structuredClone(bundle) as EvidenceBundle;
      (tampered.anchors[0] as { token: string }).token = flipped.toString('base64');
      if ((await verifyEvidenceBundle(tampered, { tsaRoots: [tsa.caPem] })).ok) unnoticed.push(at);
    }
    expect(unnoticed).toEqual([]);
    const unsigned = structuredClone(bundle) as EvidenceBundle;
    delete unsigned.anchorsSignature;
    expect(
      statusOf(await verifyEvidenceBundle(unsigned, { tsaRoots: [tsa.caPem] }), 'anchors-signature'),
    ).toEqual(['failed']);
    const moved = structuredClone(bundle) as EvidenceBundle;
    (moved.anchors[0] as { genTime: string }).genTime = '2001-01-01T00:00:00Z';
    expect(statusOf(await verifyEvidenceBundle(moved, { tsaRoots: [tsa.caPem] }), 'anchor-rfc3161')).toEqual([
      'failed',
    ]);

    const laterBundle = await world.evidence.bundle(later.orgId, later.analysisId);
    expect(laterBundle.anchors).toEqual([]);
    expect(statusOf(await verifyEvidenceBundle(laterBundle), 'anchors')).toEqual(['not-checked']);
  });

  it('keeps a failed attempt pending with its reason, retries when due, and then anchors', async () => {
    const service = serviceWith([tsaAnchorer()]);
    tsa.setBehaviour('http-error');
    await loggedAnalysis();
    await service.run('rfc3161', { signal });
    let [anchor] = await anchorsOf('rfc3161');
    expect(anchor).toMatchObject({ status: 'pending', attempts: 1 });
    expect(anchor!.reason).toMatch(/^http-status: TSA answered HTTP 503/);
    expect(anchor!.next_attempt_at).toEqual(new Date(clock.getTime() + 60_000));
    expect(anchor!.tsa_token).toBeNull();
    expect(enqueued.at(-1)).toEqual({
      name: 'anchor.rfc3161',
      jobId: expect.stringMatching(/^rfc3161:at:/),
      delayMs: 60_000,
    });

    tsa.setBehaviour('reply');
    await service.run('rfc3161', { signal });
    expect((await anchorsOf('rfc3161'))[0]).toMatchObject({ status: 'pending', attempts: 1 });

    advance(60_000);
    await service.run('rfc3161', { signal });
    [anchor] = await anchorsOf('rfc3161');
    expect(anchor).toMatchObject({ status: 'anchored', attempts: 2, reason: null });
  });

  it('fails for good when retrying cannot help, or after the last attempt, with the reason', async () => {
    await tsa.setAcceptedDigests(['sha512']);
    try {
      await loggedAnalysis();
      await serviceWith([tsaAnchorer()]).run('rfc3161', { signal });
    } finally {
      await tsa.setAcceptedDigests(['sha256', 'sha384', 'sha512']);
    }
    let [anchor] = await anchorsOf('rfc3161');
    expect(anchor).toMatchObject({ status: 'failed', attempts: 1 });
    expect(anchor!.reason).toMatch(/^rejected: /);

    // A token that does not chain to the configured root is never stored.
    await loggedAnalysis();
    await serviceWith([tsaAnchorer([otherRoot])]).run('rfc3161', { signal });
    anchor = (await anchorsOf('rfc3161'))[1];
    expect(anchor).toMatchObject({ status: 'failed', attempts: 1, tsa_token: null });
    expect(anchor!.reason).toMatch(/^untrusted-token: .*certificate-chain/);

    tsa.setBehaviour('garbage');
    await loggedAnalysis();
    const service = serviceWith([tsaAnchorer()]);
    for (let i = 0; i < 3; i += 1) {
      await service.run('rfc3161', { signal });
      advance(240_000);
    }
    anchor = (await anchorsOf('rfc3161'))[2];
    expect(anchor).toMatchObject({ status: 'failed', attempts: 3 });
    expect(anchor!.reason).toMatch(/^malformed-response: .*\(gave up after 3 attempts\)$/);
  });

  it('anchors the latest head at most once per interval, and schedules the job for when it may', async () => {
    const service = serviceWith([tsaAnchorer()], { intervalSeconds: 600 });
    await loggedAnalysis();
    await service.run('rfc3161', { signal });
    await loggedAnalysis();
    await loggedAnalysis();
    advance(100_000);
    await service.run('rfc3161', { signal });
    expect(await anchorsOf('rfc3161')).toHaveLength(1);
    expect(enqueued.at(-1)).toMatchObject({ delayMs: 500_000 });
    advance(500_000);
    await service.run('rfc3161', { signal });
    const anchors = await anchorsOf('rfc3161');
    expect(anchors.map((anchor) => anchor.status)).toEqual(['anchored', 'anchored']);
    expect(anchors[1]!.tree_size).toBe((await world.transparencyLog.latestTreeHead())!.treeSize);
  });

  it('enqueues each configured kind when a head is signed, and on the timer', async () => {
    const service = serviceWith([tsaAnchorer()]);
    const head = await world.repository.latestTreeHead();
    await service.treeHeadSigned(head!);
    await service.tick();
    expect(enqueued).toEqual([
      { name: 'anchor.rfc3161', jobId: `rfc3161:head:${head!.id}`, delayMs: 0 },
      { name: 'anchor.rfc3161', jobId: 'rfc3161:tick', delayMs: 0 },
    ]);
  });

  it('keeps a credential in the TSA URL out of the stored reason', async () => {
    const secretUrl = 'http://guardian:canary-secret@127.0.0.1:1/tsa?key=canary-key';
    const anchorer = createTimestampAnchorer({ tsaUrl: secretUrl, trustedRoots: [tsa.caPem] });
    expect(anchorer.target).toBe('http://127.0.0.1:1');
    await loggedAnalysis();
    await serviceWith([anchorer], { secrets: [secretUrl] }).run('rfc3161', { signal });
    const [anchor] = await anchorsOf('rfc3161');
    expect(anchor!.status).toBe('pending');
    expect(anchor!.reason).toBeTruthy();
    expect(anchor!.reason).not.toMatch(/canary/);
  });

  it('lets an anchor only move on from pending: anchored data is never rewritten, nothing is deleted', async () => {
    await loggedAnalysis();
    await serviceWith([tsaAnchorer()]).run('rfc3161', { signal });
    const [anchor] = await anchorsOf('rfc3161');
    const refused = /only a pending anchor may move on/;
    await expect(
      sql`update log_anchors set tsa_serial_hex = 'ff' where id = ${anchor!.id}`.execute(database.db),
    ).rejects.toThrow(refused);
    await expect(
      sql`update log_anchors set status = 'pending', next_attempt_at = now(), anchored_at = null where id = ${anchor!.id}`.execute(
        database.db,
      ),
    ).rejects.toThrow(refused);
    await expect(sql`delete from log_anchors where id = ${anchor!.id}`.execute(database.db)).rejects.toThrow(
      refused,
    );
    await expect(sql`truncate log_anchors`.execute(database.db)).rejects.toThrow(/append-only/);
    // A pending anchor cannot claim to be anchored without its receipt.
    await loggedAnalysis();
    tsa.setBehaviour('http-error');
    await serviceWith([tsaAnchorer()]).run('rfc3161', { signal });
    const pending = (await anchorsOf('rfc3161'))[1]!;
    await expect(
      sql`update log_anchors set status = 'anchored', anchored_at = now() where id = ${pending.id}`.execute(
        database.db,
      ),
    ).rejects.toThrow(/log_anchors_anchored_check/);
  });

  it('Solana: memo through JSON-RPC (litesvm), in the bundle, checked with an RPC URL only', async () => {
    const keypairFile = join(dir, 'payer.json');
    const keypairText = solanaKeypairFileText();
    await writeFile(keypairFile, keypairText, { mode: 0o600 });
    const payer = await createKeyPairSignerFromBytes(new Uint8Array(JSON.parse(keypairText) as number[]));
    const anchorer = createSolanaAnchorer({
      transport: createRpcSolanaTransport({ rpcUrl: rpc.url, sleep: noWait }),
      keypairFile,
      cluster: 'localnet',
      rpcUrl: rpc.url,
    });
    const service = serviceWith([anchorer]);

    // Unfunded: retried, with the reason; funded: anchored on the next due attempt.
    const { orgId, analysisId } = await loggedAnalysis();
    await service.run('solana', { signal });
    let [anchor] = await anchorsOf('solana');
    expect(anchor).toMatchObject({ status: 'pending', attempts: 1 });
    expect(anchor!.reason).toMatch(/^insufficient-funds: /);
    svm.airdrop(payer.address, lamports(1_000_000_000n));
    advance(60_000);
    await service.run('solana', { signal });
    [anchor] = await anchorsOf('solana');
    expect(anchor).toMatchObject({ status: 'anchored', attempts: 2, solana_cluster: 'localnet' });
    expect(anchor!.solana_fee_payer).toBe(payer.address);
    expect(anchor!.solana_memo).toBe(`guardian-tree-head:${anchor!.tree_head_sha256}`);

    const bundle = await world.evidence.bundle(orgId, analysisId);
    expect(bundle.anchors).toEqual([
      expect.objectContaining({ type: 'solana', status: 'anchored', signature: anchor!.solana_signature }),
    ]);
    const offline = await verifyEvidenceBundle(bundle);
    expect(statusOf(offline, 'anchor-solana')).toEqual(['not-checked']);
    expect(offline.checks.find((check) => check.name === 'anchor-solana')?.detail).toMatch(
      /^not checked \(no RPC URL\)/,
    );
    const online = await verifyEvidenceBundle(bundle, { solanaRpcUrl: rpc.url });
    expect(statusOf(online, 'anchor-solana')).toEqual(['passed']);

    const wrongSlot = structuredClone(bundle) as EvidenceBundle;
    (wrongSlot.anchors[0] as { slot: number }).slot += 1;
    expect(
      statusOf(await verifyEvidenceBundle(wrongSlot, { solanaRpcUrl: rpc.url }), 'anchor-solana'),
    ).toEqual(['failed']);
    const unknown = structuredClone(bundle) as EvidenceBundle;
    (unknown.anchors[0] as { signature: string }).signature = '1'.repeat(64);
    expect(statusOf(await verifyEvidenceBundle(unknown, { solanaRpcUrl: rpc.url }), 'anchor-solana')).toEqual(
      ['failed'],
    );

    // A keypair file that went missing fails the anchor at once, with the reason.
    await rm(keypairFile);
    await loggedAnalysis();
    await service.run('solana', { signal });
    anchor = (await anchorsOf('solana'))[1];
    expect(anchor).toMatchObject({ status: 'failed', attempts: 1 });
    expect(anchor!.reason).toMatch(/^keypair-missing: .*ENOENT/);
  });
});
