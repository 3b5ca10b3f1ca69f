import { z } from 'zod';
import type { MediaProbe, ProbeStream } from './media-probe.js';
import { sequenceParameterSetSize } from './parameter-sets.js';

// ffprobe prints numbers as numbers or as strings depending on the field and version; both are accepted.
const numeric = z.union([z.number(), z.string()]).optional();
const tags = z.record(z.string(), z.union([z.string(), z.number()])).optional();

const streamSchema = z.object({
  index: z.number().int(),
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  codec_long_name: z.string().optional(),
  profile: z.union([z.string(), z.number()]).optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  coded_width: z.number().optional(),
  coded_height: z.number().optional(),
  /** Hex dump from `-show_data`. */
  extradata: z.string().optional(),
  pix_fmt: z.string().optional(),
  sample_aspect_ratio: z.string().optional(),
  avg_frame_rate: z.string().optional(),
  duration: numeric,
  nb_frames: numeric,
  bit_rate: numeric,
  sample_rate: numeric,
  channels: z.number().optional(),
  disposition: z.record(z.string(), z.number()).optional(),
  side_data_list: z.array(z.object({ rotation: numeric }).loose()).optional(),
  tags,
});

const probeSchema = z.object({
  streams: z.array(streamSchema).default([]),
  format: z
    .object({
      format_name: z.string().optional(),
      format_long_name: z.string().optional(),
      duration: numeric,
      size: numeric,
      bit_rate: numeric,
      tags,
    })
    .optional(),
});

const streamTypes = new Set<ProbeStream['type']>(['video', 'audio', 'subtitle', 'data', 'attachment']);

/** Normalises `ffprobe -print_format json -show_format -show_streams` output; throws when it is not that. */
export function normaliseProbe(json: unknown): MediaProbe {
  const parsed = probeSchema.parse(json);
  const format = parsed.format ?? {};
  return {
    formatName: format.format_name ?? 'unknown',
    formatLongName: format.format_long_name ?? null,
    durationSeconds: finiteNumber(format.duration),
    sizeBytes: finiteNumber(format.size),
    bitRate: finiteNumber(format.bit_rate),
    tags: lowerCaseTags(format.tags),
    streams: parsed.streams.map(normaliseStream),
  };
}

function normaliseStream(stream: z.infer<typeof streamSchema>): ProbeStream {
  const type = streamTypes.has(stream.codec_type as ProbeStream['type'])
    ? (stream.codec_type as ProbeStream['type'])
    : 'unknown';
  const normalised: ProbeStream = {
    index: stream.index,
    type,
    codecName: stream.codec_name ?? null,
    codecLongName: stream.codec_long_name ?? null,
    profile: stream.profile === undefined ? null : String(stream.profile),
    width: stream.width ?? null,
    height: stream.height ?? null,
    pixelFormat: stream.pix_fmt ?? null,
    frameRate: parseRatio(stream.avg_frame_rate, '/'),
    durationSeconds: finiteNumber(stream.duration),
    frameCount: finiteNumber(stream.nb_frames),
    bitRate: finiteNumber(stream.bit_rate),
    sampleRate: finiteNumber(stream.sample_rate),
    channels: stream.channels ?? null,
    tags: lowerCaseTags(stream.tags),
  };
  const rotation = rotationOf(stream);
  if (rotation !== null) normalised.rotationDegrees = rotation;
  const sampleAspectRatio = parseRatio(stream.sample_aspect_ratio, ':');
  if (sampleAspectRatio !== null) normalised.sampleAspectRatio = sampleAspectRatio;
  if (stream.disposition?.attached_pic === 1) normalised.attachedPicture = true;
  if (stream.coded_width && stream.coded_height)
    normalised.codedSize = { width: stream.coded_width, height: stream.coded_height };
  const declared = stream.extradata
    ? sequenceParameterSetSize(stream.codec_name ?? null, hexDumpBytes(stream.extradata))
    : null;
  if (declared) normalised.parameterSetSize = declared;
  return normalised;
}

/** Display-matrix side data in current ffprobe; the `rotate` tag in older ones. */
function rotationOf(stream: z.infer<typeof streamSchema>): number | null {
  for (const sideData of stream.side_data_list ?? []) {
    const rotation = finiteNumber(sideData.rotation);
    if (rotation !== null) return rotation;
  }
  return finiteNumber(stream.tags?.rotate);
}

/** "30000/1001" → 29.97; "0/0", "N/A" and zero denominators → null. */
export function parseRatio(value: string | undefined, separator: '/' | ':'): number | null {
  if (!value) return null;
  const [numerator, denominator] = value.split(separator).map(Number);
  if (numerator === undefined || denominator === undefined) return null;
  const ratio = numerator / denominator;
  return Number.isFinite(ratio) && ratio > 0 ? ratio : null;
}

function finiteNumber(value: number | string | undefined): number | null {
  if (value === undefined || value === '' || value === 'N/A') return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

function lowerCaseTags(raw: Record<string, string | number> | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw ?? {})) result[key.toLowerCase()] = String(value);
  return result;
}

/** ffprobe's `-show_data` hex dump (`00000000: 0000 0167 ...  ascii`) back to bytes. */
export function hexDumpBytes(dump: string): Buffer {
  const hex = dump
    .split('\n')
    .map((line) => /^[0-9a-f]{8}: ((?:[0-9a-f]{2,4} ?){1,8})/i.exec(line)?.[1] ?? '')
    .join('')
    .replace(/\s/g, '');
  return Buffer.from(hex, 'hex');
}
