import type { MediaProbe, ProbeStream } from '../../media/media-probe.js';
import type { Evidence } from '../detector.js';
import { matchToolSignature, toolTagKeys } from './encoder-signatures.js';

/** One weak indicator with its weight (0–1). Weights are fixed and documented next to each check. */
export interface MetadataFinding extends Evidence {
  weight: number;
}

const hour = 3_600_000;
const day = 24 * hour;
// Digital video with container dates starts in the 1990s; earlier dates are epoch placeholders (1904, 1970).
const earliestPlausibleYear = 1995;
const durationToleranceSeconds = 0.5;
const durationToleranceShare = 0.05;

/** Editing applications 0.45; transcoders, muxers and FFmpeg's default track names 0.25. */
export function toolTraces(probe: MediaProbe): MetadataFinding[] {
  const seen = new Set<string>();
  const findings: MetadataFinding[] = [];
  const scopes: [string, Record<string, string>][] = [
    ['container', probe.tags],
    ...probe.streams.map((stream): [string, Record<string, string>] => [
      `stream ${stream.index}`,
      stream.tags,
    ]),
  ];
  for (const [scope, tags] of scopes) {
    for (const key of toolTagKeys) {
      const value = tags[key];
      const signature = value === undefined ? null : matchToolSignature(key, value);
      if (!signature || seen.has(signature.tool)) continue;
      seen.add(signature.tool);
      findings.push({
        kind: signature.kind === 'editor' ? 'editing-software-trace' : 're-encoding-trace',
        weight: signature.kind === 'editor' ? 0.45 : 0.25,
        summary: `${scope} tag ${key}="${value}" names ${signature.tool} (${signature.kind === 'editor' ? 'an editing application' : 'a re-encoding or remuxing tool'})`,
        data: { scope, key, value: value ?? '', tool: signature.tool },
      });
    }
  }
  return findings;
}

/** A camera make claimed in tags that does not write this container brand: 0.35. */
export function brandMismatch(probe: MediaProbe): MetadataFinding[] {
  const brand = probe.tags.major_brand;
  const make = probe.tags['com.apple.quicktime.make'] ?? probe.tags.make ?? '';
  if (brand === undefined) return [];
  const claim = /apple/i.test(make)
    ? { device: 'an Apple device', expected: 'qt  ', matches: brand === 'qt  ' }
    : probe.tags['com.android.version'] !== undefined
      ? { device: 'an Android device', expected: 'an MP4 brand', matches: brand !== 'qt  ' }
      : null;
  if (!claim || claim.matches) return [];
  return [
    {
      kind: 'container-brand-mismatch',
      weight: 0.35,
      summary: `tags claim a recording by ${claim.device}, which writes ${claim.expected}, but the major brand is "${brand}": the file was re-written`,
      data: { majorBrand: brand, make },
    },
  ];
}

/** Missing 0.1; unreadable 0.1; before 1995 0.15; in the future 0.35; after a modification date 0.3; streams disagree by >1 h 0.2. */
export function creationTimeAnomalies(probe: MediaProbe, now: Date): MetadataFinding[] {
  const raw = probe.tags.creation_time;
  if (raw === undefined) {
    return [
      {
        kind: 'creation-time-missing',
        weight: 0.1,
        summary: 'the container has no creation_time (many export and sharing tools drop it)',
      },
    ];
  }
  const created = Date.parse(raw);
  if (Number.isNaN(created)) {
    return [
      { kind: 'creation-time-unreadable', weight: 0.1, summary: `creation_time "${raw}" is not a date` },
    ];
  }
  const findings: MetadataFinding[] = [];
  const at = (weight: number, kind: string, summary: string, data?: Record<string, unknown>) =>
    findings.push({ kind, weight, summary, data: { creationTime: raw, ...data } });
  if (new Date(created).getUTCFullYear() < earliestPlausibleYear) {
    at(0.15, 'creation-time-placeholder', `creation_time ${raw} is a placeholder date, not a recording time`);
  }
  if (created > now.getTime() + day)
    at(0.35, 'creation-time-in-future', `creation_time ${raw} lies in the future`);
  const modifiedRaw =
    probe.tags.modification_time ?? probe.tags.modification_date ?? probe.tags.date_modified;
  const modified = modifiedRaw === undefined ? Number.NaN : Date.parse(modifiedRaw);
  if (created > modified + 60_000) {
    at(
      0.3,
      'creation-after-modification',
      `creation_time ${raw} is later than the modification date ${modifiedRaw}`,
      { modified: modifiedRaw },
    );
  }
  const disagreeing = probe.streams.filter((stream) => {
    const streamTime = Date.parse(stream.tags.creation_time ?? '');
    return !Number.isNaN(streamTime) && Math.abs(streamTime - created) > hour;
  });
  if (disagreeing.length > 0) {
    at(
      0.2,
      'stream-dates-disagree',
      `stream creation times differ from the container's by more than an hour (streams ${disagreeing.map((s) => s.index).join(', ')})`,
    );
  }
  return findings;
}

/** Audio and video lengths differ by more than max(0.5 s, 5%): 0.3 — cut or joined without care for one track. */
export function durationMismatch(probe: MediaProbe): MetadataFinding[] {
  const video = probe.streams.find((stream) => stream.type === 'video' && !stream.attachedPicture);
  const audio = probe.streams.find((stream) => stream.type === 'audio');
  const [videoSeconds, audioSeconds] = [video?.durationSeconds, audio?.durationSeconds];
  if (!videoSeconds || !audioSeconds) return [];
  const difference = Math.abs(videoSeconds - audioSeconds);
  if (
    difference <=
    Math.max(durationToleranceSeconds, durationToleranceShare * Math.max(videoSeconds, audioSeconds))
  )
    return [];
  return [
    {
      kind: 'stream-duration-mismatch',
      weight: 0.3,
      summary: `the video track lasts ${videoSeconds.toFixed(2)} s and the audio track ${audioSeconds.toFixed(2)} s`,
      data: { videoSeconds, audioSeconds },
    },
  ];
}

/** More than one motion video track: 0.15 (cameras and phones write one). */
export function unusualLayout(probe: MediaProbe): MetadataFinding[] {
  const motion = probe.streams.filter(
    (stream: ProbeStream) => stream.type === 'video' && !stream.attachedPicture,
  );
  if (motion.length <= 1) return [];
  return [
    {
      kind: 'unusual-stream-layout',
      weight: 0.15,
      summary: `${motion.length} video tracks where recording devices write one`,
      data: { videoStreams: motion.map((stream) => stream.index) },
    },
  ];
}
