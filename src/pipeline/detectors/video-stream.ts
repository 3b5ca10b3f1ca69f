import type { MediaProbe, ProbeStream } from '../../media/media-probe.js';

/** The stream a video detector examines: the first video stream that is not cover art. */
export function primaryVideoStream(probe: MediaProbe): ProbeStream | null {
  return probe.streams.find((stream) => stream.type === 'video' && !stream.attachedPicture) ?? null;
}

/** Codecs whose every frame is a keyframe: nothing is predicted, so there is no GOP to re-encode. */
export const intraOnlyCodecs = new Set([
  'mjpeg',
  'jpeg2000',
  'prores',
  'png',
  'ffv1',
  'dnxhd',
  'huffyuv',
  'ffvhuff',
  'utvideo',
  'rawvideo',
  'v210',
  'v410',
  'r210',
  'qtrle',
  'cfhd',
  'jpegls',
  'magicyuv',
  'dvvideo',
  'hqx',
  'hap',
  'cllc',
  'zlib',
  'mszh',
  'tiff',
  'bmp',
  'gif',
]);

const imageCodecs = new Set([
  'png',
  'apng',
  'bmp',
  'gif',
  'webp',
  'tiff',
  'targa',
  'sgi',
  'pcx',
  'exr',
  'dpx',
  'jpegxl',
]);

/** Single pictures, whatever their codec: image demuxers, image codecs, or one frame. */
export function isStillImage(probe: MediaProbe, stream: ProbeStream): boolean {
  return (
    probe.formatName.endsWith('_pipe') ||
    probe.formatName === 'image2' ||
    imageCodecs.has(stream.codecName ?? '') ||
    stream.frameCount === 1
  );
}

/** Frames the probe promises, when it says (nb_frames, else duration × frame rate). */
export function expectedFrameCount(probe: MediaProbe, stream: ProbeStream): number | null {
  if (stream.frameCount !== null && stream.frameCount > 0) return stream.frameCount;
  const duration = stream.durationSeconds ?? probe.durationSeconds;
  return duration !== null && stream.frameRate !== null ? Math.round(duration * stream.frameRate) : null;
}
