import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalSigner } from '@trustnxt/c2pa-ts/cose';
import type { Action } from '@trustnxt/c2pa-ts/manifest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMediaTools, type FfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import type { DetectorFinding } from '../../src/pipeline/detector.js';
import { createC2paProvenanceDetector } from '../../src/pipeline/detectors/c2pa-provenance.detector.js';
import { createTestSigner, signJpeg } from '../helpers/c2pa-signing.js';
import { fileDetectorContext } from '../helpers/detector-context.js';
import { encodeJpeg } from '../helpers/jpeg-encoder.js';
import { createMediaTempDir, generateStill, type MediaTempDir } from '../helpers/media-fixtures.js';

const detector = createC2paProvenanceDetector();
let temp: MediaTempDir;
let tools: FfmpegMediaTools;
let signer: LocalSigner;
let picture: Buffer;

beforeAll(async () => {
  temp = await createMediaTempDir('guardian-c2pa-');
  tools = await createFfmpegMediaTools();
  signer = await createTestSigner(temp.dir);
  picture = await readFile(
    await generateStill(temp.dir, { format: 'jpeg', size: '160x120', name: 'picture' }),
  );
});
afterAll(() => temp.remove());

async function analyse(name: string, bytes: Buffer): Promise<DetectorFinding> {
  const path = join(temp.dir, name);
  await writeFile(path, bytes);
  const context = await fileDetectorContext(path, { probe: await tools.probe(path), mediaTools: tools });
  expect(detector.applicable(context)).toEqual({ applicable: true });
  return detector.analyze(context);
}

const kinds = (finding: DetectorFinding) => finding.evidence.map((item) => item.kind).sort();

describe('c2pa-provenance without a manifest', () => {
  it('abstains on a JPEG and a PNG without one: provenance unknown, never a fake signal', async () => {
    const png = await readFile(await generateStill(temp.dir, { format: 'png' }));
    for (const [name, bytes] of [
      ['plain.jpg', picture],
      ['plain.png', png],
    ] as const) {
      const finding = await analyse(name, bytes);
      expect(finding.score).toBeNull();
      expect(finding.abstainReason).toBe('no C2PA manifest: provenance unknown');
      expect(finding.evidence).toEqual([]);
    }
  });
});

describe('c2pa-provenance with a manifest', () => {
  it('verifies a valid manifest that declares no edits: score 0, signer and generator named', async () => {
    const finding = await analyse(
      'signed.jpg',
      await signJpeg(picture, signer, { generator: 'Guardian test camera' }),
    );
    expect(finding.score).toBe(0);
    expect(finding.evidence).toEqual([]);
    expect(finding.explanation).toMatch(/^Provenance verified/);
    expect(finding.measurements).toMatchObject({
      manifestPresent: true,
      manifestValid: true,
      claimGenerator: expect.stringMatching(/^Guardian test camera/),
      signer: expect.stringContaining('CN=Guardian Test Signer'),
    });
    expect(finding.measurements.statusCodes).toMatch(/assertion\.dataHash\.match/);
  });

  it('reports declared AI generation and edits as evidence (weak, not a verdict)', async () => {
    const actions = [
      {
        action: 'c2pa.created',
        digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia',
      },
      { action: 'c2pa.edited', softwareAgent: { name: 'Guardian test editor' } },
    ] as unknown as Action[];
    const finding = await analyse('generated.jpg', await signJpeg(picture, signer, { actions }));
    expect(kinds(finding)).toEqual(['c2pa-declares-edits', 'c2pa-declares-generation']);
    expect(finding.evidence.find((item) => item.kind === 'c2pa-declares-edits')?.summary).toMatch(
      /c2pa\.edited by Guardian test editor/,
    );
    expect(finding.score).toBe(0.5);
    expect(finding.measurements).toMatchObject({ manifestValid: true, actions: 'c2pa.created, c2pa.edited' });
  });

  it('reports a picture changed after signing: the hash binding fails', async () => {
    const signed = await signJpeg(picture, signer);
    const tampered = Buffer.from(signed);
    tampered[tampered.length - 40] = (tampered[tampered.length - 40] as number) ^ 0x24;
    const finding = await analyse('tampered.jpg', tampered);
    expect(kinds(finding)).toEqual(['c2pa-validation-failed']);
    expect(finding.evidence[0]?.summary).toMatch(
      /assertion\.dataHash\.mismatch.*changed after it was signed/,
    );
    expect(finding.measurements.manifestValid).toBe(false);
  });

  it('reports a corrupted or fake JUMBF segment as an invalid manifest without crashing', async () => {
    const signed = await signJpeg(picture, signer);
    const jumbfAt = signed.indexOf(Buffer.from('c2pa.claim', 'latin1'));
    const corrupted = Buffer.from(signed);
    corrupted.fill(0x5a, jumbfAt + 40, jumbfAt + 120);
    // An APP11 segment that claims to hold a C2PA manifest store (JPEG XT header, 'jumb' and a 'jumd'
    // labelled c2pa) but whose box lengths and contents are nonsense.
    const box = Buffer.concat([
      Buffer.from([0, 0, 1, 0]),
      Buffer.from('jumb', 'latin1'),
      Buffer.from([0, 0, 0, 40]),
      Buffer.from('jumdc2pa', 'latin1'),
      Buffer.alloc(40, 0x77),
    ]);
    const app11 = Buffer.concat([Buffer.from([0x4a, 0x50, 0, 1, 0, 0, 0, 1]), box]);
    const fake = encodeJpeg(
      { width: 32, height: 32, channels: 1, pixels: new Uint8Array(1024).fill(90) },
      { segments: [{ marker: 0xeb, data: app11 }] },
    );
    for (const [name, bytes] of [
      ['corrupted.jpg', corrupted],
      ['fake-jumbf.jpg', fake],
    ] as const) {
      const finding = await analyse(name, bytes);
      expect(finding.score).toBe(0.5);
      expect(finding.measurements).toMatchObject({ manifestPresent: true, manifestValid: false });
      expect(kinds(finding)[0]).toMatch(/^c2pa-(invalid|validation-failed)$/);
    }
  });
});
