import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMediaTools, type FfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import type { DetectorContext, DetectorFinding } from '../../src/pipeline/detector.js';
import { createGopDoubleCompressionDetector } from '../../src/pipeline/detectors/gop-double-compression.detector.js';
import { createImageMetadataDetector } from '../../src/pipeline/detectors/image-metadata.detector.js';
import { createMetadataTracesDetector } from '../../src/pipeline/detectors/metadata-traces.detector.js';
import { fileDetectorContext } from '../helpers/detector-context.js';
import {
  exifTiff,
  iccProfile,
  jpegSegments,
  pngText,
  pngXmp,
  withPngChunks,
  withWebpChunks,
  xmpPacket,
} from '../helpers/image-metadata-fixtures.js';
import { encodeJpeg, type RasterImage } from '../helpers/jpeg-encoder.js';
import {
  createMediaTempDir,
  generateClip,
  generateStill,
  type MediaTempDir,
} from '../helpers/media-fixtures.js';

const now = new Date('2025-06-01T12:00:00Z');
const detector = createImageMetadataDetector({ now: () => now });
let temp: MediaTempDir;
let tools: FfmpegMediaTools;

beforeAll(async () => {
  temp = await createMediaTempDir('guardian-image-metadata-');
  tools = await createFfmpegMediaTools();
});
afterAll(() => temp.remove());

const grey = (width: number, height: number): RasterImage => ({
  width,
  height,
  channels: 1,
  pixels: Uint8Array.from({ length: width * height }, (_, index) => (index * 7) & 255),
});

async function contextFor(name: string, bytes?: Buffer): Promise<DetectorContext> {
  const path = bytes ? join(temp.dir, name) : name;
  if (bytes) await writeFile(path, bytes);
  return fileDetectorContext(path, { probe: await tools.probe(path), mediaTools: tools });
}

async function analyse(name: string, bytes: Buffer): Promise<DetectorFinding> {
  const context = await contextFor(name, bytes);
  expect(detector.applicable(context)).toEqual({ applicable: true });
  return detector.analyze(context);
}

const kinds = (finding: DetectorFinding) => finding.evidence.map((item) => item.kind).sort();
const thumbnail = (width: number, height: number) => encodeJpeg(grey(width, height), { quality: 70 });

describe('image-metadata on JPEG', () => {
  it('finds nothing in a consistent camera file (letterboxed 160×120 thumbnail of a 4:3 picture, firmware software)', async () => {
    const tiff = exifTiff({
      ifd0: {
        0x010f: 'Canon',
        0x0110: 'Canon EOS R6',
        0x0131: 'Firmware Version 1.8.1',
        0x0132: '2024:05:01 10:00:00',
      },
      exif: { 0x9003: '2024:05:01 10:00:00', 0xa002: 320, 0xa003: 240 },
      thumbnail: thumbnail(160, 120),
    });
    const finding = await analyse(
      'camera.jpg',
      encodeJpeg(grey(320, 240), { segments: [jpegSegments.exif(tiff)] }),
    );
    expect(finding.evidence).toEqual([]);
    expect(finding.score).toBe(0);
    expect(finding.measurements).toMatchObject({
      make: 'Canon',
      model: 'Canon EOS R6',
      thumbnail: '160x120',
    });
  });

  it('reports an editor, its history, a re-framed thumbnail, a resized picture and a later save, capped below the strong band', async () => {
    const tiff = exifTiff({
      ifd0: {
        0x010f: 'Canon',
        0x0110: 'Canon EOS R6',
        0x0131: 'Adobe Photoshop 25.0 (Windows)',
        0x0132: '2024:05:03 12:00:00',
      },
      exif: { 0x9003: '2024:05:01 10:00:00', 0xa002: 6000, 0xa003: 4000 },
      thumbnail: thumbnail(160, 90),
    });
    const xmp = xmpPacket(
      { 'xmp:CreatorTool': 'Adobe Photoshop 25.0 (Windows)' },
      '<xmpMM:History><rdf:Seq><rdf:li stEvt:action="saved" stEvt:softwareAgent="Adobe Photoshop 25.0 (Windows)"/></rdf:Seq></xmpMM:History>',
    );
    const finding = await analyse(
      'edited.jpg',
      encodeJpeg(grey(320, 240), { segments: [jpegSegments.exif(tiff), jpegSegments.xmp(xmp)] }),
    );
    expect(kinds(finding)).toEqual([
      'edit-history',
      'editing-software-trace',
      'modified-after-capture',
      'recorded-size-mismatch',
      'thumbnail-mismatch',
    ]);
    expect(finding.evidence.find((item) => item.kind === 'thumbnail-mismatch')?.summary).toMatch(
      /160×90.*320×240/,
    );
    expect(finding.evidence.find((item) => item.kind === 'modified-after-capture')?.summary).toMatch(
      /2\.1 days/,
    );
    expect(finding.score).toBe(0.6);
    expect(finding.explanation).toMatch(/weak indications only/);
  });

  it('names GIMP from its ICC profile when no camera is named, and flags a future date', async () => {
    const tiff = exifTiff({ ifd0: { 0x0132: '2031:01:01 00:00:00' } });
    const icc = iccProfile({ cmm: 'lcms', description: 'GIMP built-in sRGB' });
    const finding = await analyse(
      'gimp.jpg',
      encodeJpeg(grey(64, 48), { segments: [jpegSegments.exif(tiff), jpegSegments.icc(icc)] }),
    );
    expect(kinds(finding)).toEqual([
      'date-in-future',
      'editing-software-trace',
      'software-profile-without-camera',
    ]);
    expect(finding.measurements).toMatchObject({ iccDescription: 'GIMP built-in sRGB', iccCmm: 'lcms' });
  });
});

describe('image-metadata on damaged metadata', () => {
  it('reads what it can from nonsense EXIF, ICC and XMP without failing', async () => {
    let state = 99;
    const noise = (length: number) =>
      Buffer.from(
        Array.from({ length }, () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24),
      );
    // A TIFF header pointing into noise, an ICC header with an absurd tag table, XMP cut mid-attribute.
    const tiff = Buffer.concat([
      Buffer.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8]),
      Buffer.from([0xff, 0xff]),
      noise(600),
    ]);
    const icc = iccProfile({ cmm: 'lcms', description: 'x' });
    icc.writeUInt32BE(0xffffffff, 128);
    const xmp = xmpPacket({ 'xmp:CreatorTool': 'GIMP 2.10' }).slice(0, 400);
    const finding = await analyse(
      'damaged.jpg',
      encodeJpeg(grey(64, 48), {
        segments: [
          jpegSegments.exif(tiff),
          jpegSegments.icc(icc),
          jpegSegments.xmp(xmp),
          jpegSegments.exif(noise(300)),
        ],
      }),
    );
    expect(finding.score).not.toBeNull();
    expect(finding.measurements.structures).toBe('JFIF, Exif, ICC, XMP, Exif');
  });
});

describe('image-metadata on PNG and WebP', () => {
  it('reports generator records and a declared AI source in a PNG', async () => {
    const png = await readFile(await generateStill(temp.dir, { format: 'png', name: 'generated' }));
    const finding = await analyse(
      'generated-with-text.png',
      withPngChunks(png, [
        pngText('parameters', 'a portrait, photorealistic\nSteps: 30, Sampler: Euler a, Model: sdxl'),
        pngXmp(
          xmpPacket({
            'Iptc4xmpExt:DigitalSourceType':
              'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia',
          }),
        ),
      ]),
    );
    expect(kinds(finding)).toEqual(['generation-declared', 'generator-metadata']);
    expect(finding.score).toBe(0.6);
  });

  it('says a PNG without metadata is stripped, weakly', async () => {
    const finding = await analyse(
      'plain.png',
      await readFile(await generateStill(temp.dir, { format: 'png', name: 'plain' })),
    );
    expect(kinds(finding)).toEqual(['metadata-absent']);
    expect(finding.score).toBe(0.1);
  });

  it("reads an ffmpeg JPEG's comment without the NUL that ends it", async () => {
    const jpeg = await readFile(await generateStill(temp.dir, { format: 'jpeg', name: 'lavc' }));
    // libavcodec writes "Lavc…" and a C string's NUL into a COM segment.
    expect(jpeg.includes(Buffer.from('\0\xff', 'latin1'))).toBe(true);
    const finding = await analyse('lavc.jpg', jpeg);
    const text = JSON.stringify(finding);
    expect(text).toMatch(/Lavc\d/);
    expect(text).not.toContain('\\u0000');
  });

  it('reads EXIF from a WebP chunk', async () => {
    const webp = await readFile(await generateStill(temp.dir, { format: 'webp' }));
    const tiff = exifTiff({ ifd0: { 0x0131: 'Snapseed 2.0', 0x010f: 'Google', 0x0110: 'Pixel 8' } });
    const finding = await analyse('snapseed.webp', withWebpChunks(webp, [{ type: 'EXIF', data: tiff }]));
    expect(kinds(finding)).toEqual(['editing-software-trace']);
    expect(finding.measurements).toMatchObject({ format: 'webp', software: 'Snapseed 2.0', make: 'Google' });
  });
});

describe('which detectors apply to stills', () => {
  it('image-metadata is not applicable to GIF, BMP or video; metadata-traces and the GOP check are not applicable to any still', async () => {
    const metadataTraces = createMetadataTracesDetector({ now: () => now });
    const gop = createGopDoubleCompressionDetector();
    const stills = await Promise.all(
      (['jpeg', 'png', 'webp', 'gif', 'bmp'] as const).map((format) =>
        generateStill(temp.dir, { format, name: `still-${format}` }),
      ),
    );
    for (const path of stills) {
      const context = await contextFor(path);
      expect(metadataTraces.applicable(context)).toMatchObject({
        applicable: false,
        reason: expect.stringMatching(/still image/),
      });
      expect(gop.applicable(context)).toMatchObject({ applicable: false });
    }
    const reasons = await Promise.all(
      [stills[3] as string, stills[4] as string, await generateClip(temp.dir, { seconds: 1 })].map(
        async (path) => {
          const applicability = detector.applicable(await contextFor(path));
          return applicability.applicable ? 'applicable' : applicability.reason;
        },
      ),
    );
    expect(reasons).toEqual([
      'GIF files carry no EXIF or camera metadata',
      'BMP files carry no EXIF or camera metadata',
      'not a still image (container metadata is read by metadata-traces)',
    ]);
  });
});
