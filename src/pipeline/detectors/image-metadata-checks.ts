import { parseExifDate, type ExifData } from '../../media/image-metadata/exif.js';
import type { IccProfile } from '../../media/image-metadata/icc.js';
import type { XmpData } from '../../media/image-metadata/xmp.js';
import type { MetadataFinding } from './metadata-checks.js';
import { generatorTextKeys, matchImageTool } from './image-software-signatures.js';

/** What an image's metadata says, parsed; null where the file has no such block. */
export interface ImageMetadata {
  exif: ExifData | null;
  xmp: XmpData | null;
  icc: IccProfile | null;
  texts: { key: string; value: string }[];
  /** Size of the EXIF thumbnail's own frame header, when there is a readable JPEG thumbnail. */
  thumbnail: { width: number; height: number } | null;
  /** The picture's size as decoded. */
  picture: { width: number; height: number };
}

const minute = 60_000;
const day = 24 * 60 * minute;
// Dates without a zone: two records of the same moment may differ by up to a day's worth of time zones.
const zoneTolerance = 15 * 60 * minute;
const earliestPlausibleYear = 1995;
// Cameras letterbox thumbnails of wide pictures into this fixed size.
const fixedThumbnail = { width: 160, height: 120 };

/** Editors 0.45, generators 0.55, libraries and converters 0.2; one finding per tool. */
export function softwareTraces(metadata: ImageMetadata): MetadataFinding[] {
  const sources: [string, string | null][] = [
    ['EXIF Software', metadata.exif?.software ?? null],
    ['EXIF ProcessingSoftware', metadata.exif?.processingSoftware ?? null],
    ['XMP CreatorTool', metadata.xmp?.creatorTool ?? null],
    ...(metadata.xmp?.historyAgents ?? []).map((agent): [string, string] => ['XMP edit history', agent]),
    ...metadata.texts
      .filter((text) => /^(software|comment|description|source|title)$/i.test(text.key))
      .map((text): [string, string] => [`text "${text.key}"`, text.value.slice(0, 200)]),
    ['ICC profile description', metadata.icc?.description ?? null],
  ];
  const seen = new Set<string>();
  const findings: MetadataFinding[] = [];
  for (const [source, value] of sources) {
    const signature = value ? matchImageTool(value) : null;
    if (!signature || seen.has(signature.tool)) continue;
    seen.add(signature.tool);
    const weight = signature.kind === 'generator' ? 0.55 : signature.kind === 'editor' ? 0.45 : 0.2;
    const role =
      signature.kind === 'generator'
        ? 'an image generator'
        : signature.kind === 'editor'
          ? 'an image editor'
          : 'an image library or converter (re-encoding)';
    findings.push({
      kind: `${signature.kind === 'converter' ? 're-encoding' : signature.kind === 'editor' ? 'editing-software' : 'generator-software'}-trace`,
      weight,
      summary: `${source} "${value}" names ${signature.tool} (${role})`,
      data: { source, value, tool: signature.tool },
    });
  }
  for (const text of metadata.texts) {
    const generator = generatorTextKeys.get(text.key.toLowerCase());
    if (!generator || seen.has(generator)) continue;
    seen.add(generator);
    findings.push({
      kind: 'generator-metadata',
      weight: 0.55,
      summary: `a text chunk "${text.key}" holds ${generator}`,
      data: { key: text.key, excerpt: text.value.slice(0, 120) },
    });
  }
  return findings;
}

/** XMP declares how the picture came to be: generated 0.55, composited or edited 0.3. */
export function declaredSource(metadata: ImageMetadata): MetadataFinding[] {
  const type = metadata.xmp?.digitalSourceType;
  if (!type) return [];
  const name = type.split('/').pop() ?? type;
  if (/trainedAlgorithmicMedia|algorithmicMedia|compositeSynthetic/i.test(name))
    return [
      {
        kind: 'generation-declared',
        weight: 0.55,
        summary: `XMP DigitalSourceType "${name}": the file declares itself made by a generative or algorithmic process`,
        data: { digitalSourceType: type },
      },
    ];
  if (/composite|minorHumanEdits|algorithmicallyEnhanced|dataDrivenMedia/i.test(name))
    return [
      {
        kind: 'edit-declared',
        weight: 0.3,
        summary: `XMP DigitalSourceType "${name}": the file declares itself edited or composited`,
        data: { digitalSourceType: type },
      },
    ];
  return [];
}

/** An XMP edit history or raw-development settings: 0.3. */
export function editHistory(metadata: ImageMetadata): MetadataFinding[] {
  const xmp = metadata.xmp;
  if (!xmp) return [];
  const edits = xmp.historyActions.filter((action) =>
    /saved|converted|derived|edited|cropped|produced/i.test(action),
  );
  if (edits.length === 0 && !xmp.hasDevelopSettings && !xmp.derivedFrom) return [];
  const parts = [
    edits.length
      ? `${edits.length} edit-history event${edits.length === 1 ? '' : 's'} (${[...new Set(edits)].join(', ')})`
      : null,
    xmp.hasDevelopSettings ? 'raw development settings (Camera Raw / Lightroom)' : null,
    xmp.derivedFrom ? 'a reference to the document it was derived from' : null,
  ].filter(Boolean);
  return [
    {
      kind: 'edit-history',
      weight: 0.3,
      summary: `XMP records ${parts.join(', ')}`,
      data: { actions: edits.slice(0, 20), agents: xmp.historyAgents.slice(0, 20) },
    },
  ];
}

/** The EXIF thumbnail has another shape than the picture: 0.4 (0.15 for a fixed 160×120 that cameras letterbox). */
export function thumbnailMismatch(metadata: ImageMetadata): MetadataFinding[] {
  const { thumbnail, picture } = metadata;
  if (
    !thumbnail ||
    thumbnail.width === 0 ||
    thumbnail.height === 0 ||
    picture.width === 0 ||
    picture.height === 0
  )
    return [];
  const aspect = picture.width / picture.height;
  const matches = (width: number, height: number) => Math.abs(width / height / aspect - 1) <= 0.05;
  if (matches(thumbnail.width, thumbnail.height) || matches(thumbnail.height, thumbnail.width)) return [];
  const fixed = thumbnail.width === fixedThumbnail.width && thumbnail.height === fixedThumbnail.height;
  return [
    {
      kind: 'thumbnail-mismatch',
      weight: fixed ? 0.15 : 0.4,
      summary:
        `the EXIF thumbnail is ${thumbnail.width}×${thumbnail.height} but the picture is ${picture.width}×${picture.height}: ` +
        (fixed
          ? 'a different shape (cameras letterbox wide pictures into 160×120, so this is weak)'
          : 'the picture was cropped or re-framed after the thumbnail was written'),
      data: { thumbnail, picture },
    },
  ];
}

/** EXIF records another picture size than the file has: 0.3 (resized or cropped with the metadata kept). */
export function recordedSizeMismatch(metadata: ImageMetadata): MetadataFinding[] {
  const width = metadata.exif?.pixelWidth;
  const height = metadata.exif?.pixelHeight;
  const { picture } = metadata;
  if (!width || !height || picture.width === 0) return [];
  const same = (w: number, h: number) => w === picture.width && h === picture.height;
  if (same(width, height) || same(height, width)) return [];
  return [
    {
      kind: 'recorded-size-mismatch',
      weight: 0.3,
      summary: `EXIF records a ${width}×${height} picture but the file holds ${picture.width}×${picture.height}: resized or cropped with the camera's metadata kept`,
      data: { recorded: { width, height }, picture },
    },
  ];
}

/** Software colour profile and no camera named: 0.2; no EXIF and no XMP at all: 0.1. */
export function provenanceGaps(metadata: ImageMetadata): MetadataFinding[] {
  const make = metadata.exif?.make ?? metadata.xmp?.make ?? null;
  const model = metadata.exif?.model ?? metadata.xmp?.model ?? null;
  if (!metadata.exif && !metadata.xmp)
    return [
      {
        kind: 'metadata-absent',
        weight: 0.1,
        summary: 'no EXIF or XMP metadata (stripped: sharing platforms and export tools remove it)',
      },
    ];
  const icc = metadata.icc;
  const softwareProfile =
    icc &&
    (icc.cmm === 'lcms' ||
      icc.creator === 'lcms' ||
      /gimp|krita|darktable|rawtherapee/i.test(icc.description ?? ''));
  if (make || model || !softwareProfile) return [];
  return [
    {
      kind: 'software-profile-without-camera',
      weight: 0.2,
      summary: `no camera make or model, and the ICC profile "${icc.description ?? icc.cmm}" (CMM ${icc.cmm}) is one that editing software writes`,
      data: { cmm: icc.cmm, creator: icc.creator, description: icc.description },
    },
  ];
}

/** Future 0.35; captured after the last change 0.3; changed after capture 0.25; records disagree 0.2; placeholder 0.1. */
export function dateAnomalies(metadata: ImageMetadata, now: Date): MetadataFinding[] {
  const { exif, xmp } = metadata;
  const dates: [string, string | null][] = [
    ['EXIF DateTimeOriginal', exif?.dateTimeOriginal ?? null],
    ['EXIF DateTimeDigitized', exif?.dateTimeDigitized ?? null],
    ['EXIF DateTime (modified)', exif?.modifyDate ?? null],
    ['XMP CreateDate', xmp?.createDate ?? null],
    ['XMP ModifyDate', xmp?.modifyDate ?? null],
    ['XMP DateTimeOriginal', xmp?.dateTimeOriginal ?? null],
  ];
  const parsed = new Map(dates.map(([name, value]) => [name, { value, time: parseExifDate(value) }]));
  const findings: MetadataFinding[] = [];
  const add = (kind: string, weight: number, summary: string) => {
    if (!findings.some((finding) => finding.kind === kind)) findings.push({ kind, weight, summary });
  };
  for (const [name, { value, time }] of parsed) {
    if (time === null) continue;
    if (time > now.getTime() + day) add('date-in-future', 0.35, `${name} ${value} lies in the future`);
    if (new Date(time).getUTCFullYear() < earliestPlausibleYear)
      add(
        'date-placeholder',
        0.1,
        `${name} ${value} is a placeholder (the camera clock was not set, or the date was reset)`,
      );
  }
  const time = (name: string) => parsed.get(name)?.time ?? null;
  const capture = time('EXIF DateTimeOriginal') ?? time('XMP DateTimeOriginal') ?? time('XMP CreateDate');
  const modified = time('EXIF DateTime (modified)') ?? time('XMP ModifyDate');
  if (capture !== null && modified !== null) {
    if (capture > modified + minute)
      add('capture-after-modification', 0.3, 'the capture date is later than the last-modified date');
    else if (modified > capture + minute) {
      const days = (modified - capture) / day;
      add(
        'modified-after-capture',
        0.25,
        `the file was re-written ${days >= 1 ? `${days.toFixed(1)} days` : `${Math.round((modified - capture) / minute)} minutes`} after capture (a program saved it again)`,
      );
    }
  }
  const exifCapture = time('EXIF DateTimeOriginal');
  const xmpCreate = time('XMP CreateDate') ?? time('XMP DateTimeOriginal');
  if (exifCapture !== null && xmpCreate !== null && Math.abs(exifCapture - xmpCreate) > zoneTolerance)
    add('dates-disagree', 0.2, 'EXIF and XMP give capture dates more than a day apart');
  return findings;
}
