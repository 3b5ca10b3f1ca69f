import type { MediaTools, RawFrame } from '../../media/media-probe.js';
import { scaledFrameSize } from '../../media/scaled-frame-size.js';
import { expectedFrameCount, isStillImage, primaryVideoStream } from '../detectors/video-stream.js';
import type { FrameSampleRequest, FrameSampler } from '../run-inputs.js';
import type { DenseWindow, FrameSample, SampledFrame } from './frame-sample.js';

export interface SamplingLimits {
  /** Sweep keyframes across the whole video. */
  sweepKeyframes: number;
  /** Dense windows for temporal signals, and each one's length. */
  windows: number;
  windowSeconds: number;
  /** Decode width caps: noise and resampling traces need native pixels, memory needs a bound. */
  videoMaxWidth: number;
  imageMaxWidth: number;
}

export const defaultSamplingLimits: SamplingLimits = {
  sweepKeyframes: 12,
  windows: 2,
  windowSeconds: 1,
  videoMaxWidth: 1280,
  imageMaxWidth: 2048,
};

/**
 * The sampling plan: keyframes across the whole video plus short dense windows (decoded from the preceding
 * keyframe) for temporal signals; a still image is its one frame. Frames come at native resolution up to
 * the width caps, in time order, decoded once.
 */
export function createFfmpegFrameSampler(deps: {
  mediaTools: MediaTools;
  limits?: SamplingLimits;
}): FrameSampler {
  const limits = deps.limits ?? defaultSamplingLimits;
  return {
    async sample({ input, probe, signal, onFrame, keyframeTimes }: FrameSampleRequest): Promise<FrameSample> {
      const stream = primaryVideoStream(probe);
      if (!stream || !stream.width || !stream.height) throw new Error('the media has no picture to decode');
      const still = isStillImage(probe, stream);
      const maxWidth = still ? limits.imageMaxWidth : limits.videoMaxWidth;
      const size = scaledFrameSize(stream, maxWidth);
      const scale = size.width / scaledFrameSize(stream, Number.MAX_SAFE_INTEGER).width;
      const collected = (frames: RawFrame[], windowId: number | null, keyframe: boolean) =>
        frames.map((frame) => ({ ...frame, scale, keyframe, windowId }));
      const streamIndex = stream.index;
      if (still) {
        const frames = await collect(
          deps.mediaTools.keyframes(
            input,
            { streamIndex, stream, maxWidth, pixelFormat: 'rgb24', limit: 1 },
            signal,
          ),
        );
        if (frames.length === 0) throw new Error('the image decoded to no picture');
        return assemble(collected(frames, null, true), [], {
          kind: 'image',
          totalFrames: 1,
          durationSeconds: null,
          size,
        });
      }
      const duration = stream.durationSeconds ?? probe.durationSeconds ?? 0;
      const sweep = await collect(
        deps.mediaTools.keyframes(
          input,
          {
            streamIndex,
            stream,
            maxWidth,
            pixelFormat: 'rgb24',
            limit: limits.sweepKeyframes,
            minIntervalSeconds: duration > 0 ? duration / (limits.sweepKeyframes + 1) : 0,
          },
          signal,
        ),
      );
      const windowFrames: { id: number; frames: RawFrame[] }[] = [];
      const heard = announcer(sweep, onFrame);
      for (const [id, start] of windowStarts(duration, limits, keyframeTimes ?? []).entries()) {
        const frames: RawFrame[] = [];
        const decoding = deps.mediaTools.window(
          input,
          {
            streamIndex,
            stream,
            startSeconds: start,
            durationSeconds: Math.min(limits.windowSeconds, duration - start),
            maxWidth,
            pixelFormat: 'rgb24',
          },
          signal,
        );
        for await (const frame of decoding) {
          frames.push(frame);
          // A window of one frame is dropped: its frames are announced from the second on.
          if (frames.length === 2) heard.window(collected(frames, id, false));
          else if (frames.length > 2) heard.window(collected([frame], id, false));
        }
        if (frames.length > 1) windowFrames.push({ id, frames });
        heard.windowDone(frames.length > 1 ? frames.length : 0);
      }
      const frames = [
        ...collected(sweep, null, true),
        ...windowFrames.flatMap(({ id, frames: windowed }) => collected(windowed, id, false)),
      ];
      if (frames.length === 0) throw new Error('no frame of the video decoded');
      const sample = assemble(
        frames,
        windowFrames.map(({ id }) => id),
        {
          kind: 'video',
          totalFrames: expectedFrameCount(probe, stream) ?? frames.length,
          durationSeconds: duration || null,
          size,
          frameRate: stream.frameRate,
        },
      );
      // The sweep's places are final only now, after every window is in.
      for (const frame of sample.frames) if (frame.windowId === null) onFrame?.(frame);
      return sample;
    },
  };
}

/**
 * Places of window frames as they decode, the way assemble() will order them (by time, a keyframe first at
 * an equal time): the sweep frames at or before each, then the earlier windows' frames, then its own rank.
 */
function announcer(sweep: readonly RawFrame[], onFrame: ((frame: SampledFrame) => void) | undefined) {
  const sweepTimes = sweep.map((frame) => frame.timeSeconds);
  let earlierWindows = 0;
  let inWindow = 0;
  return {
    window(frames: Omit<SampledFrame, 'index'>[]) {
      for (const frame of frames) {
        const before = sweepTimes.filter((time) => time <= frame.timeSeconds).length;
        onFrame?.({ ...frame, index: before + earlierWindows + inWindow });
        inWindow += 1;
      }
    },
    /** `kept`: the frames the window adds to the sample (none when it is dropped). */
    windowDone(kept: number) {
      earlierWindows += kept;
      inWindow = 0;
    },
  };
}

/**
 * Window starts spread inside the video (a third and two thirds in for two windows), clear of its ends. A
 * start moves back to just after a keyframe within a sixth of the spacing: a window decoded from its own
 * keyframe wastes no frames decoded only to reach it, and the keyframe itself (perhaps a sweep frame) is left out.
 */
export function windowStarts(
  duration: number,
  limits: SamplingLimits,
  keyframeTimes: readonly number[] = [],
): number[] {
  if (!(duration > 0) || limits.windows === 0) return [];
  const length = Math.min(limits.windowSeconds, duration);
  const reach = duration / (2 * (limits.windows + 1));
  return Array.from({ length: limits.windows }, (_, i) => {
    const target = Math.max(0, ((i + 1) / (limits.windows + 1)) * duration - length / 2);
    const keyframe = latestAtOrBefore(keyframeTimes, target);
    return keyframe !== null && target - keyframe <= reach ? keyframe + afterKeyframeSeconds : target;
  }).filter((start, i, all) => i === 0 || start >= all[i - 1]! + length);
}

/** Past the keyframe's timestamp and before any next frame's (no frame rate reaches 1000 fps). */
const afterKeyframeSeconds = 0.001;

function latestAtOrBefore(times: readonly number[], limit: number): number | null {
  let latest: number | null = null;
  for (const time of times) if (time <= limit && (latest === null || time > latest)) latest = time;
  return latest;
}

function assemble(
  unordered: Omit<SampledFrame, 'index'>[],
  windowIds: number[],
  meta: {
    kind: 'video' | 'image';
    totalFrames: number;
    durationSeconds: number | null;
    size: { width: number; height: number };
    frameRate?: number | null;
  },
): FrameSample {
  const frames = unordered
    .sort((a, b) => a.timeSeconds - b.timeSeconds || Number(b.keyframe) - Number(a.keyframe))
    .map((frame, index) => ({ ...frame, index }));
  const windows: DenseWindow[] = windowIds.map((id) => {
    const members = frames.filter((frame) => frame.windowId === id);
    return {
      id,
      startSeconds: members[0]!.timeSeconds,
      endSeconds: members[members.length - 1]!.timeSeconds,
      frameIndexes: members.map((frame) => frame.index),
    };
  });
  const interval = meta.frameRate ? 1 / meta.frameRate : 0;
  const windowSeconds = windows.reduce(
    (sum, window) => sum + window.endSeconds - window.startSeconds + interval,
    0,
  );
  const sweepSeconds = frames.filter((frame) => frame.windowId === null).length * interval;
  const secondsCovered = meta.durationSeconds
    ? Math.min(meta.durationSeconds, windowSeconds + sweepSeconds)
    : 0;
  return {
    frames,
    windows,
    plan: {
      kind: meta.kind,
      totalFrames: meta.totalFrames,
      framesDecoded: frames.length,
      keyframesDecoded: frames.filter((frame) => frame.keyframe).length,
      windows: windows.map((window) => ({
        startSeconds: window.startSeconds,
        endSeconds: window.endSeconds,
        frames: window.frameIndexes.length,
      })),
      secondsCovered: Number(secondsCovered.toFixed(3)),
      durationSeconds: meta.durationSeconds,
      decodeWidth: meta.size.width,
      decodeHeight: meta.size.height,
    },
  };
}

async function collect(frames: AsyncIterable<RawFrame>): Promise<RawFrame[]> {
  const out: RawFrame[] = [];
  for await (const frame of frames) out.push(frame);
  return out;
}
