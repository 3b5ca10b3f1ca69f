import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, canonicalSha256 } from '../../src/evidence/canonical-json.js';
import { keyIdOf, rawPublicKey, signBytes } from '../../src/evidence/ed25519.js';
import type { EvidenceBundle } from '../../src/evidence/evidence-bundle.js';
import { hashLeaf, inclusionProof, rootHash } from '../../src/evidence/merkle.js';
import { statementBytes } from '../../src/evidence/statement.js';
import { signTreeHead, treeHeadBody } from '../../src/evidence/tree-head.js';
import { verifyEvidenceBundle } from '../../src/evidence/verify-bundle.js';
import { databaseImplementations, testLogger, type TestDatabase } from '../helpers/databases.js';
import { openEvidenceWorld, type EvidenceWorld } from './evidence-fixtures.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const pglite = databaseImplementations().find((implementation) => implementation.name === 'pglite')!;

let database: TestDatabase;
let world: EvidenceWorld;
let bundle: EvidenceBundle;
let fileText: string;
let media: string;

beforeAll(async () => {
  database = await pglite.open();
  world = await openEvidenceWorld(database, testLogger());
  // A few leaves before and after, so the proof has several hashes.
  for (let i = 0; i < 5; i += 1)
    await world.transparencyLog.record((await world.finishedAnalysis()).analysisId);
  const finished = await world.finishedAnalysis('media under test');
  media = finished.content;
  await world.transparencyLog.record(finished.analysisId);
  for (let i = 0; i < 3; i += 1)
    await world.transparencyLog.record((await world.finishedAnalysis()).analysisId);
  bundle = await world.evidence.bundle(finished.orgId, finished.analysisId);
  fileText = canonicalJson(bundle);
});

afterAll(async () => {
  await world?.close();
  await database?.destroy();
});

const verifyText = (text: string, options: { mediaSha256?: string } = {}) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return verifyEvidenceBundle(parsed, { fileText: text, ...options });
};
const failed = (result: Awaited<ReturnType<typeof verifyEvidenceBundle>>) =>
  result.checks.filter((check) => check.status === 'failed').map((check) => check.name);

/** A different character of the same kind, so most flips keep the JSON valid and reach the cryptography. */
function flipped(char: string): string {
  if (/[0-9]/.test(char)) return String((Number(char) + 1) % 10);
  if (/[a-f]/.test(char)) return char === 'f' ? 'a' : String.fromCharCode(char.charCodeAt(0) + 1);
  if (/[A-Za-z]/.test(char))
    return char === 'z' ? 'y' : char === 'Z' ? 'Y' : String.fromCharCode(char.charCodeAt(0) + 1);
  return String.fromCharCode(char.charCodeAt(0) ^ 1);
}

const sections = [
  'report',
  'statement',
  'statementSignature',
  'inclusionProof',
  'treeHead',
  'leafIndex',
  'keyId',
  'publicKeys',
  'analysisId',
] as const;

describe('evidence bundle verification', () => {
  it('passes the bundle as issued, with its media file', async () => {
    const result = await verifyText(fileText, { mediaSha256: sha256(media) });
    expect(failed(result)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.checks.map((check) => `${check.name}:${check.status}`)).toEqual([
      'bundle-format:passed',
      'canonical-form:passed',
      'statement-signature:passed',
      'report-hash:passed',
      'inclusion-proof:passed',
      'tree-head-signature:passed',
      'trusted-key:not-checked',
      'media-hash:passed',
      'anchors:not-checked',
    ]);
    expect(bundle.inclusionProof.hashes.length).toBeGreaterThanOrEqual(3);
  });

  it('fails with another media file', async () => {
    expect(failed(await verifyText(fileText, { mediaSha256: sha256('other media') }))).toEqual([
      'media-hash',
    ]);
  });

  it('fails after a change of any single byte of the file, the media hash given', async () => {
    const mediaSha256 = sha256(media);
    const unnoticed: string[] = [];
    for (let position = 0; position < fileText.length; position += 1) {
      const tampered =
        fileText.slice(0, position) + flipped(fileText[position]!) + fileText.slice(position + 1);
      if ((await verifyText(tampered, { mediaSha256 })).ok)
        unnoticed.push(`byte ${position}: …${fileText.slice(Math.max(0, position - 20), position + 5)}…`);
    }
    // A base64 value's last character before '=' carries spare bits: only its canonical spelling is accepted.
    expect(unnoticed).toEqual([]);
  });

  it.each(sections)('fails after any of many single-byte changes inside %s', async (section) => {
    const value = canonicalJson(bundle[section]);
    const start = fileText.indexOf(`"${section}":${value}`) + section.length + 3;
    expect(start).toBeGreaterThan(section.length + 2);
    const positions = new Set(
      Array.from({ length: 24 }, (_, i) => start + Math.floor((i * value.length) / 24)),
    );
    for (const position of positions) {
      const tampered =
        fileText.slice(0, position) + flipped(fileText[position]!) + fileText.slice(position + 1);
      const result = await verifyText(tampered);
      expect(result.ok, `byte ${position - start} of ${section}`).toBe(false);
    }
  });

  it('names the check that catches each kind of change (content edited in memory, as POST /verify gets it)', async () => {
    const edit = async (change: (copy: EvidenceBundle) => void) => {
      const copy = structuredClone(bundle);
      change(copy);
      return failed(await verifyEvidenceBundle(copy));
    };
    expect(await edit((copy) => void (copy.report.band = 'indicators_found'))).toEqual(['report-hash']);
    expect(await edit((copy) => void (copy.statement.media.sha256 = sha256('x')))).toEqual([
      'statement-signature',
      'inclusion-proof',
    ]);
    const signature = Buffer.from(bundle.statementSignature, 'base64');
    signature[10]! ^= 1;
    expect(await edit((copy) => void (copy.statementSignature = signature.toString('base64')))).toEqual([
      'statement-signature',
    ]);
    expect(await edit((copy) => void (copy.inclusionProof.hashes[1] = sha256('x')))).toEqual([
      'inclusion-proof',
    ]);
    expect(await edit((copy) => void (copy.leafIndex += 1))).toEqual(['inclusion-proof']);
    expect(await edit((copy) => void (copy.treeHead.timestamp = '2001-01-01T00:00:00.000Z'))).toEqual([
      'tree-head-signature',
    ]);
    expect(await edit((copy) => void (copy.treeHead.rootHash = sha256('x')))).toEqual([
      'inclusion-proof',
      'tree-head-signature',
    ]);
    expect(
      await edit((copy) => void copy.anchors.push({ type: 'made-up', treeHeadSha256: sha256('x') })),
    ).toEqual(['anchors-signature', 'anchors']);
    expect(await edit((copy) => void ((copy as Record<string, unknown>).extra = 1))).toEqual([
      'bundle-format',
    ]);
  });

  it('fails a reformatted file (canonical form) though its contents still verify', async () => {
    const pretty = JSON.stringify(bundle, null, 2);
    expect(failed(await verifyText(pretty))).toEqual(['canonical-form']);
  });

  it("a bundle forged with the forger's own key passes only until the log's key is required", async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const publicKey = rawPublicKey(privateKey);
    const keyId = keyIdOf(publicKey);
    const report = { ...bundle.report, band: 'no_indicators', reasons: ['forged'] };
    const statement = {
      ...bundle.statement,
      keyId,
      report: { ...bundle.statement.report, sha256: canonicalSha256(report) },
    };
    const leaves = [hashLeaf(statementBytes(statement)), hashLeaf(Buffer.from('other'))];
    const head = signTreeHead(
      { ...treeHeadBody(bundle.treeHead), treeSize: 2, rootHash: rootHash(leaves).toString('hex'), keyId },
      privateKey,
    );
    const forged: EvidenceBundle = {
      ...bundle,
      report,
      statement,
      keyId,
      statementSignature: signBytes(privateKey, statementBytes(statement)),
      leafIndex: 0,
      inclusionProof: { treeSize: 2, hashes: inclusionProof(0, leaves).map((hash) => hash.toString('hex')) },
      treeHead: head,
      publicKeys: [{ keyId, algorithm: 'Ed25519', publicKey: publicKey.toString('base64') }],
    };
    expect((await verifyEvidenceBundle(forged)).ok).toBe(true);
    const logKey = [world.keyring.current().keyId];
    expect(failed(await verifyEvidenceBundle(forged, { trustedKeyIds: logKey }))).toEqual(['trusted-key']);
    expect((await verifyEvidenceBundle(bundle, { trustedKeyIds: logKey })).ok).toBe(true);
  });

  it('reports garbage as a failed format check, not a crash', async () => {
    for (const input of [undefined, null, 42, 'text', [], {}, { format: 'guardian-evidence-bundle-v1' }])
      expect(failed(await verifyEvidenceBundle(input))).toEqual(['bundle-format']);
  });
});
