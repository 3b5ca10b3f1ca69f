import { readExif } from '../../media/image-metadata/exif.js';
import { readIccProfile } from '../../media/image-metadata/icc.js';
import { readMetadataBlocks, type ImageMetadataBlocks } from '../../media/image-metadata/metadata-blocks.js';
import { readXmp } from '../../media/image-metadata/xmp.js';
import { readJpegStructure } from '../../media/jpeg/jpeg-structure.js';
import { openByteReader, WindowedReader } from '../../media/media-bytes.js';
import type { Detector, DetectorContext, DetectorFinding } from '../detector.js';
import {
  dateAnomalies,
  declaredSource,
  editHistory,
  provenanceGaps,
  recordedSizeMismatch,
  softwareTraces,
  thumbnailMismatch,
  type ImageMetadata,
} from './image-metadata-checks.js';
import { metadataScoreCap } from './metadata-traces.detector.js';
import type { MetadataFinding } from './metadata-checks.js';
import { round } from './statistics.js';
import { pictureSize, stillImageFormat } from './still-image.js';

export function createImageMetadataDetector(deps: { now: () => Date }): Detector {
  return {
    id: 'image-metadata',
    version: '1.0.0',
    needs: ['probe'],
    strength: 'weak',
    description:
      'EXIF, XMP, ICC and text metadata of still images: editing or generating software named, an XMP edit history, a thumbnail or recorded size that does not match the picture, implausible or inconsistent dates.',
    applicable({ probe }) {
      const format = stillImageFormat(probe);
      if (format === null)
        return {
          applicable: false,
          reason: 'not a still image (container metadata is read by metadata-traces)',
        };
      if (format === 'gif' || format === 'bmp')
        return {
          applicable: false,
          reason: `${format.toUpperCase()} files carry no EXIF or camera metadata`,
        };
      return { applicable: true };
    },
    analyze: (context) => analyze(context, deps.now()),
  };
}

async function analyze(context: DetectorContext, now: Date): Promise<DetectorFinding> {
  const format = stillImageFormat(context.probe);
  if (format !== 'jpeg' && format !== 'png' && format !== 'webp')
    throw new Error('not a JPEG, PNG or WebP image');
  const reader = await openByteReader(context.input, context.sizeBytes);
  let blocks: ImageMetadataBlocks;
  try {
    blocks = await readMetadataBlocks(format, new WindowedReader(reader, 256 * 1024));
  } finally {
    await reader.close();
  }
  const metadata = parse(blocks, pictureSize(context.probe));
  const findings = [
    ...softwareTraces(metadata),
    ...declaredSource(metadata),
    ...editHistory(metadata),
    ...thumbnailMismatch(metadata),
    ...recordedSizeMismatch(metadata),
    ...provenanceGaps(metadata),
    ...dateAnomalies(metadata, now),
  ];
  // Independent weak indicators combine like noisy-OR; the cap keeps metadata below the strong band.
  const combined = 1 - findings.reduce((remaining, finding) => remaining * (1 - finding.weight), 1);
  const score = round(Math.min(metadataScoreCap, combined));
  const { exif, xmp, icc, thumbnail } = metadata;
  return {
    score,
    coverage: {
      unit: 'metadata blocks',
      analysed: blocks.structures.length,
      total: blocks.structures.length,
      fraction: 1,
    },
    evidence: findings.map(({ weight: _weight, ...evidence }) => evidence),
    explanation: explain(findings, blocks),
    measurements: {
      format,
      structures: blocks.structures.join(', ') || null,
      make: exif?.make ?? xmp?.make ?? null,
      model: exif?.model ?? xmp?.model ?? null,
      software: exif?.software ?? null,
      creatorTool: xmp?.creatorTool ?? null,
      dateTimeOriginal: exif?.dateTimeOriginal ?? xmp?.dateTimeOriginal ?? null,
      modifyDate: exif?.modifyDate ?? xmp?.modifyDate ?? null,
      thumbnail: thumbnail ? `${thumbnail.width}x${thumbnail.height}` : null,
      iccDescription: icc?.description ?? null,
      iccCmm: icc?.cmm ?? null,
      findings: findings.length,
      combined: round(combined),
      score,
    },
  };
}

function parse(blocks: ImageMetadataBlocks, picture: { width: number; height: number }): ImageMetadata {
  const exif = blocks.exif ? readExif(blocks.exif) : null;
  let thumbnail: ImageMetadata['thumbnail'] = null;
  if (exif?.thumbnail && blocks.exif) {
    const bytes = blocks.exif.subarray(exif.thumbnail.offset, exif.thumbnail.offset + exif.thumbnail.length);
    try {
      const frame = readJpegStructure(Buffer.from(bytes)).frame;
      if (frame) thumbnail = { width: frame.width, height: frame.height };
    } catch {
      // An unreadable thumbnail is not evidence either way.
    }
  }
  return {
    exif,
    xmp: blocks.xmp ? readXmp(blocks.xmp) : null,
    icc: blocks.icc ? readIccProfile(blocks.icc) : null,
    texts: blocks.texts,
    thumbnail,
    picture,
  };
}

function explain(findings: MetadataFinding[], blocks: ImageMetadataBlocks): string {
  const caveat =
    'Metadata is easy to edit, strip or forge, so these are weak indications only; its absence proves nothing.';
  const seen = blocks.structures.length
    ? `Metadata present: ${[...new Set(blocks.structures)].join(', ')}. `
    : '';
  if (findings.length === 0)
    return `${seen}No editing or generating software is named, the thumbnail and recorded size match the picture and the dates are consistent. ${caveat}`;
  return `${seen}${findings.map((finding) => `${finding.summary} (weight ${finding.weight})`).join('; ')}. ${caveat}`;
}
