import { isoBaseMediaContainers } from '../media/media-sniffer.js';
import { openByteReader, WindowedReader } from '../media/media-bytes.js';
import { dimensionProblem, type MediaLimits, type PictureSize } from '../media/media-limits.js';
import type { MediaInput, MediaProbe, MediaTools, ProbeStream } from '../media/media-probe.js';
import { MediaToolError } from '../media/media-tool-error.js';
import { imageFormatOf, readImageStructure } from '../media/image-structure.js';
import { boxPastEnd } from '../media/iso-boxes.js';
import type { PacketTable } from '../media/packet-scan.js';
import { sniffMedia, sniffLength } from '../media/media-sniffer.js';
import { isStillImage, primaryVideoStream } from './detectors/video-stream.js';

/** What of the media is really there: the `integrity` section of a report (field names are public). */
export interface MediaIntegrity {
  /** Fewer samples are in the file than its index lists. */
  truncated: boolean;
  samplesClaimed: number;
  samplesPresent: number;
  /** samplesPresent / samplesClaimed, 0–1. */
  presentFraction: number;
  claimedDurationSeconds: number | null;
  presentDurationSeconds: number | null;
  decodeCheck: { framesTried: number; framesDecoded: number };
}

export type IntakeRefusalCode =
  'media-truncated' | 'media-undecodable' | 'media-dimensions-too-large' | 'media-unreadable';

/** Media that must not be analysed, with a stable code and a reason in plain words. */
export class MediaIntakeRefusal extends Error {
  constructor(
    readonly code: IntakeRefusalCode,
    readonly reason: string,
    readonly integrity: MediaIntegrity | null = null,
  ) {
    super(reason);
    this.name = 'MediaIntakeRefusal';
  }
}

export interface IntakeRequest {
  input: MediaInput;
  sizeBytes: number;
  /** A probe taken earlier; limits are checked on it again, it is not re-run. */
  probe?: MediaProbe;
  /** The run's tools (shared, so the packet table read here is the one the detectors get). */
  mediaTools: MediaTools;
  signal?: AbortSignal;
}

export interface IntakeResult {
  probe: MediaProbe;
  integrity: MediaIntegrity;
  /** Plain-words notes for the report (partly present, partly decodable). */
  notes: string[];
  /** The packet table read for the check (of the stream named), for the report's compression profile. */
  packets?: { streamIndex: number; table: PacketTable };
}

export interface MediaIntakeCheck {
  /** Throws MediaIntakeRefusal for media that cannot be judged; aborts and bugs throw as they are. */
  check(request: IntakeRequest): Promise<IntakeResult>;
}

type Limits = Pick<MediaLimits, 'maxVideoPixels' | 'maxImagePixels' | 'maxDimension' | 'intakeCheckSeconds'>;

/**
 * The check every media passes at upload and again before analysis, cheapest first: image headers
 * parsed here, then the probe, picture sizes from the bitstream against the limits, the packet table
 * against the file's bytes, and a few keyframes decoded within a wall-clock budget.
 */
export function createMediaIntakeCheck(deps: { limits: Limits }): MediaIntakeCheck {
  async function check(request: IntakeRequest): Promise<IntakeResult> {
    const reader = await openByteReader(request.input, request.sizeBytes);
    try {
      const bytes = new WindowedReader(reader);
      const sniffed = sniffMedia(await bytes.bytes(0, sniffLength));
      await checkImageHeaders(sniffed?.container ?? null, bytes);
      const probe = request.probe ?? (await probeOrExplain(request, bytes, sniffed?.container ?? null));
      checkPictureSizes(probe);
      const stream =
        primaryVideoStream(probe) ?? probe.streams.find((candidate) => candidate.type === 'video');
      if (!stream)
        throw new MediaIntakeRefusal('media-unreadable', 'no video or image stream was found in the file');
      const table = await request.mediaTools.packets(
        request.input,
        stream.index,
        { sizeBytes: request.sizeBytes },
        request.signal,
      );
      return await checkPresentAndDecodable(request, probe, stream, table);
    } finally {
      await reader.close();
    }
  }

  async function checkImageHeaders(container: string | null, bytes: WindowedReader): Promise<void> {
    const format = container ? imageFormatOf(container) : null;
    if (!format) return;
    const structure = await readImageStructure(format, bytes);
    if (structure.width !== null && structure.height !== null) {
      const problem = dimensionProblem(
        { width: structure.width, height: structure.height },
        'image',
        deps.limits,
      );
      if (problem) throw new MediaIntakeRefusal('media-dimensions-too-large', `${problem} (image header)`);
    }
    if (structure.kind === 'broken') throw new MediaIntakeRefusal(structure.code, structure.reason);
  }

  function checkPictureSizes(probe: MediaProbe): void {
    for (const stream of probe.streams.filter((candidate) => candidate.type === 'video')) {
      const kind = stream.attachedPicture || isStillImage(probe, stream) ? 'image' : 'video';
      for (const [size, source] of picturesSizes(stream)) {
        const problem = dimensionProblem(size, kind, deps.limits);
        if (problem)
          throw new MediaIntakeRefusal(
            'media-dimensions-too-large',
            `${problem} (${source}, stream ${stream.index})`,
          );
      }
    }
  }

  async function checkPresentAndDecodable(
    request: IntakeRequest,
    probe: MediaProbe,
    stream: ProbeStream,
    table: PacketTable,
  ): Promise<IntakeResult> {
    const samplesClaimed = Math.max(stream.frameCount ?? 0, table.listedPackets);
    const samplesPresent = table.presentPackets;
    const claimedDurationSeconds = stream.durationSeconds ?? probe.durationSeconds;
    const presentDurationSeconds =
      table.firstTimeSeconds === null || table.lastTimeSeconds === null
        ? null
        : round(table.lastTimeSeconds - table.firstTimeSeconds + (table.meanFrameSeconds ?? 0));
    const integrity: MediaIntegrity = {
      truncated: samplesPresent < samplesClaimed,
      samplesClaimed,
      samplesPresent,
      presentFraction: samplesClaimed ? round(samplesPresent / samplesClaimed) : 0,
      claimedDurationSeconds,
      presentDurationSeconds,
      decodeCheck: { framesTried: 0, framesDecoded: 0 },
    };
    if (samplesPresent === 0) {
      throw new MediaIntakeRefusal(
        samplesClaimed > 0 ? 'media-truncated' : 'media-undecodable',
        samplesClaimed > 0
          ? `none of the ${samplesClaimed} samples the index lists is inside the file (${request.sizeBytes} bytes): the media data is missing`
          : 'the video stream holds no packets',
        integrity,
      );
    }
    const times = spotCheckTimes(table);
    // The spot checks run side by side: each is mostly ffmpeg starting up and seeking, and all share one budget.
    const timeoutMs = deps.limits.intakeCheckSeconds * 1000;
    const decoded = await Promise.all(
      times.map((timeSeconds) =>
        request.mediaTools.decodesAt(
          request.input,
          { streamIndex: stream.index, timeSeconds, timeoutMs },
          request.signal,
        ),
      ),
    );
    integrity.decodeCheck.framesTried = times.length;
    integrity.decodeCheck.framesDecoded = decoded.filter(Boolean).length;
    const { framesTried, framesDecoded } = integrity.decodeCheck;
    if (framesDecoded === 0) {
      throw new MediaIntakeRefusal(
        integrity.truncated ? 'media-truncated' : 'media-undecodable',
        `no frame decodes: ${framesTried} keyframe${framesTried === 1 ? '' : 's'} tried within ${deps.limits.intakeCheckSeconds} s, none decoded` +
          (integrity.truncated
            ? ` (and only ${samplesPresent} of ${samplesClaimed} samples are in the file)`
            : ''),
        integrity,
      );
    }
    return { probe, integrity, notes: notesOn(integrity), packets: { streamIndex: stream.index, table } };
  }

  return { check };
}

/** Claimed sizes are all checked: the container's, the decoder's coded size and the SPS's. */
function picturesSizes(stream: ProbeStream): [PictureSize, string][] {
  const sizes: [PictureSize, string][] = [];
  if (stream.width && stream.height)
    sizes.push([{ width: stream.width, height: stream.height }, 'stream header']);
  if (stream.codedSize) sizes.push([stream.codedSize, 'coded size']);
  if (stream.parameterSetSize) sizes.push([stream.parameterSetSize, 'sequence parameter set']);
  return sizes;
}

/** First, middle and last present keyframes (the first present packet when none is a keyframe). */
function spotCheckTimes(table: PacketTable): number[] {
  const keys = table.keyframeTimes;
  if (keys.length === 0) return [Math.max(0, table.firstTimeSeconds ?? 0)];
  const picks = [keys[0], keys[Math.floor((keys.length - 1) / 2)], keys[keys.length - 1]] as number[];
  return [...new Set(picks)];
}

function notesOn(integrity: MediaIntegrity): string[] {
  const notes: string[] = [];
  if (integrity.truncated) {
    const duration =
      integrity.presentDurationSeconds !== null && integrity.claimedDurationSeconds !== null
        ? `, ${integrity.presentDurationSeconds.toFixed(1)} s of the ${integrity.claimedDurationSeconds.toFixed(1)} s claimed`
        : '';
    notes.push(
      `the file is truncated: ${integrity.samplesPresent} of ${integrity.samplesClaimed} samples (${Math.round(integrity.presentFraction * 100)}%) are present${duration}; only the present part was analysed`,
    );
  }
  const { framesTried, framesDecoded } = integrity.decodeCheck;
  if (framesDecoded < framesTried)
    notes.push(`only ${framesDecoded} of ${framesTried} spot-checked keyframes decoded`);
  return notes;
}

/** A probe failure on a cut file is named as such: an ISO BMFF box past the end, or the demuxer hitting the end. */
async function probeOrExplain(
  request: IntakeRequest,
  bytes: WindowedReader,
  container: string | null,
): Promise<MediaProbe> {
  try {
    return await request.mediaTools.probe(request.input, request.signal);
  } catch (error) {
    if (!(error instanceof MediaToolError) || request.signal?.aborted) throw error;
    const overrun = container && isoBaseMediaContainers.has(container) ? await boxPastEnd(bytes) : null;
    if (overrun) {
      throw new MediaIntakeRefusal(
        'media-truncated',
        `the file is cut: its ${overrun.type} box at byte ${overrun.offset} declares ${overrun.declaredBytes} bytes but the file ends at byte ${bytes.sizeBytes}`,
      );
    }
    if (/End of file|partial file/i.test(error.stderrTail))
      throw new MediaIntakeRefusal(
        'media-truncated',
        `the file ends before its headers do: ${firstLine(error)}`,
      );
    throw new MediaIntakeRefusal('media-unreadable', `ffprobe could not read the file: ${firstLine(error)}`);
  }
}

const round = (value: number) => Math.round(value * 1000) / 1000;

function firstLine(error: Error): string {
  // The loopback gateway URL carries a one-time token: never echo it.
  const message = error.message.replace(/https?:\/\/127\.0\.0\.1:\d+\/\S*/g, 'input');
  return (
    message
      .split('\n')
      .find((line) => line.trim().length > 0)
      ?.slice(0, 300) ?? 'unknown error'
  );
}
