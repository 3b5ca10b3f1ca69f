import type { ImageFormat } from '../../media/image-structure.js';
import type { MediaProbe } from '../../media/media-probe.js';
import { isStillImage, primaryVideoStream } from './video-stream.js';

const formatsByCodec: Record<string, ImageFormat> = {
  mjpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  bmp: 'bmp',
};

/** The still-image format the probe found (JPEG, PNG, WebP, GIF, BMP), or null for video and other images. */
export function stillImageFormat(probe: MediaProbe): ImageFormat | null {
  const stream = primaryVideoStream(probe);
  if (!stream || !isStillImage(probe, stream)) return null;
  // Motion JPEG in AVI or MOV is video, even when it is a single frame.
  if (stream.codecName === 'mjpeg' && !probe.formatName.endsWith('_pipe') && probe.formatName !== 'image2')
    return null;
  return formatsByCodec[stream.codecName ?? ''] ?? null;
}

/** The picture's size from the probe. */
export function pictureSize(probe: MediaProbe): { width: number; height: number } {
  const stream = primaryVideoStream(probe);
  return { width: stream?.width ?? 0, height: stream?.height ?? 0 };
}
