import type { ProbeStream } from './media-probe.js';

export interface FrameSize {
  width: number;
  height: number;
}

/**
 * The exact size ffmpeg is told to scale to, decided from the probe so the byte stream can be cut into
 * frames without guessing: display aspect kept (pixel aspect and 90° rotations applied, as ffmpeg
 * auto-rotates), width at most maxWidth, both sides even and at least 2.
 */
export function scaledFrameSize(
  stream: Pick<ProbeStream, 'width' | 'height' | 'rotationDegrees' | 'sampleAspectRatio'>,
  maxWidth: number,
): FrameSize {
  if (!stream.width || !stream.height) throw new Error('the video stream has no known dimensions');
  if (!Number.isFinite(maxWidth) || maxWidth < 2)
    throw new Error(`maxWidth must be at least 2, got ${maxWidth}`);
  const displayWidth = stream.width * (stream.sampleAspectRatio ?? 1);
  const quarterTurns = Math.round((stream.rotationDegrees ?? 0) / 90);
  const sideways = Math.abs(quarterTurns) % 2 === 1;
  const [sourceWidth, sourceHeight] = sideways
    ? [stream.height, displayWidth]
    : [displayWidth, stream.height];
  const width = evenAtLeastTwo(Math.min(maxWidth, sourceWidth), Math.floor);
  const height = evenAtLeastTwo((width * sourceHeight) / sourceWidth, Math.round);
  return { width, height };
}

function evenAtLeastTwo(value: number, round: (x: number) => number): number {
  return Math.max(2, round(value / 2) * 2);
}

export function bytesPerPixel(pixelFormat: 'gray' | 'rgb24'): number {
  return pixelFormat === 'gray' ? 1 : 3;
}
