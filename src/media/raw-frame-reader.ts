import type { RawFrame } from './media-probe.js';
import { MediaToolError } from './media-tool-error.js';
import type { FrameSize } from './scaled-frame-size.js';
import type { ShowinfoTimestamps } from './showinfo-timestamps.js';
import type { ToolProcess } from './tool-process.js';

export interface RawFrameStreamOptions {
  size: FrameSize;
  bytesPerPixel: number;
  /** Added to every showinfo time (the window start: `-ss` makes ffmpeg count from the seek point). */
  timeOffsetSeconds: number;
  /** How long a frame's timestamp line may lag behind its pixels. */
  timestampWaitMs: number;
  /** Frames at or after this time end the stream (inexact seeking, e.g. in MPEG-TS, can overshoot `-t`). */
  endSeconds: number;
}

/**
 * Cuts ffmpeg's rawvideo stdout into frames of exactly width*height*bpp bytes and pairs each with its
 * showinfo timestamp. Stopping the iteration early kills ffmpeg.
 */
export async function* readRawFrames(
  run: ToolProcess,
  timestamps: ShowinfoTimestamps,
  options: RawFrameStreamOptions,
): AsyncGenerator<RawFrame> {
  const { width, height } = options.size;
  const frameBytes = width * height * options.bytesPerPixel;
  const outputError = (detail: string) =>
    new MediaToolError({
      tool: run.tool,
      failure: 'output',
      exitCode: null,
      stderrTail: run.stderrTail(),
      detail,
    });
  let frame = sharedFrame(frameBytes);
  let filled = 0;
  let index = 0;
  try {
    for await (const chunk of run.chunks()) {
      let offset = 0;
      while (offset < chunk.length) {
        const copied = chunk.copy(
          frame,
          filled,
          offset,
          Math.min(chunk.length, offset + frameBytes - filled),
        );
        filled += copied;
        offset += copied;
        if (filled < frameBytes) continue;
        const time = await timestamps.at(index, options.timestampWaitMs);
        if (time === undefined) {
          // A dead or failed process explains a missing line better than the line itself does.
          run.stop();
          await run.finished;
          throw outputError(`gave no timestamp for frame ${index}`);
        }
        const timeSeconds = roundToMicroseconds(options.timeOffsetSeconds + time);
        if (timeSeconds >= options.endSeconds) return;
        yield { timeSeconds, width, height, data: frame };
        frame = sharedFrame(frameBytes);
        filled = 0;
        index += 1;
      }
    }
    await run.finished;
    if (filled !== 0) throw outputError(`ended inside a frame (${filled} of ${frameBytes} bytes)`);
  } finally {
    run.stop();
  }
}

/** Frames live in shared memory so detector threads read them where they are, without a copy each. */
const sharedFrame = (bytes: number): Buffer => Buffer.from(new SharedArrayBuffer(bytes));

export const roundToMicroseconds = (seconds: number): number => Math.round(seconds * 1e6) / 1e6;
