/** Caps on what one media file may make the tools do; from MAX_* / MEDIA_TOOL_* / INTAKE_CHECK_SECONDS. */
export interface MediaLimits {
  /** Coded width × height of a video stream. */
  maxVideoPixels: number;
  /** Width × height of a still image. */
  maxImagePixels: number;
  /** Longest side of any picture. */
  maxDimension: number;
  /** Address-space cap of every ffmpeg/ffprobe child, in MiB. */
  toolMemoryMb: number;
  /** Wall-clock cap of one tool run, in seconds. */
  toolTimeoutSeconds: number;
  /** Wall-clock budget of the intake decode spot-check, in seconds. */
  intakeCheckSeconds: number;
}

export const defaultMediaLimits: MediaLimits = {
  maxVideoPixels: 8192 * 4320,
  maxImagePixels: 100_000_000,
  maxDimension: 16_384,
  toolMemoryMb: 2048,
  toolTimeoutSeconds: 600,
  intakeCheckSeconds: 30,
};

export interface PictureSize {
  width: number;
  height: number;
}

/** Why a picture is over the limits, or null when it fits. */
export function dimensionProblem(
  size: PictureSize,
  kind: 'video' | 'image',
  limits: Pick<MediaLimits, 'maxVideoPixels' | 'maxImagePixels' | 'maxDimension'>,
): string | null {
  const what = kind === 'video' ? 'video frame' : 'image';
  const longest = Math.max(size.width, size.height);
  if (longest > limits.maxDimension)
    return `the ${what} is ${size.width}×${size.height}; the longest side allowed is ${limits.maxDimension}`;
  const maxPixels = kind === 'video' ? limits.maxVideoPixels : limits.maxImagePixels;
  if (size.width * size.height > maxPixels)
    return `the ${what} is ${size.width}×${size.height} (${size.width * size.height} pixels); at most ${maxPixels} are allowed`;
  return null;
}

/** The limits as configured (MAX_VIDEO_PIXELS, MAX_IMAGE_PIXELS, MAX_MEDIA_DIMENSION, MEDIA_TOOL_*, INTAKE_CHECK_SECONDS). */
export function mediaLimitsFromConfig(config: {
  MAX_VIDEO_PIXELS: number;
  MAX_IMAGE_PIXELS: number;
  MAX_MEDIA_DIMENSION: number;
  MEDIA_TOOL_MEMORY_MB: number;
  MEDIA_TOOL_TIMEOUT_SECONDS: number;
  INTAKE_CHECK_SECONDS: number;
}): MediaLimits {
  return {
    maxVideoPixels: config.MAX_VIDEO_PIXELS,
    maxImagePixels: config.MAX_IMAGE_PIXELS,
    maxDimension: config.MAX_MEDIA_DIMENSION,
    toolMemoryMb: config.MEDIA_TOOL_MEMORY_MB,
    toolTimeoutSeconds: config.MEDIA_TOOL_TIMEOUT_SECONDS,
    intakeCheckSeconds: config.INTAKE_CHECK_SECONDS,
  };
}
