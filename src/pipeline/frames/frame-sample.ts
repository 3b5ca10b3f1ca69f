/** One decoded picture shared by every detector of a run (never decoded twice). */
export interface SampledFrame {
  /** Position in `FrameSample.frames` (time order). */
  index: number;
  /** Presentation time in seconds on the media timeline; 0 for a still image. */
  timeSeconds: number;
  width: number;
  height: number;
  /** Packed rgb24 pixels, width*height*3 bytes, at the media's own resolution unless `scale` < 1. */
  data: Buffer;
  /** Decoded width / coded width: 1 means native pixels (noise and resampling traces intact). */
  scale: number;
  /** A keyframe from the whole-video sweep (or the image itself). */
  keyframe: boolean;
  /** The dense window the frame belongs to, or null for sweep keyframes. */
  windowId: number | null;
}

/** A run of consecutive frames decoded from the preceding keyframe, for temporal signals. */
export interface DenseWindow {
  id: number;
  startSeconds: number;
  endSeconds: number;
  /** Indexes into `FrameSample.frames`, consecutive in time. */
  frameIndexes: number[];
}

/** What the sampling plan decoded, reported as coverage and recorded for reproducibility. */
export interface SamplingPlan {
  kind: 'video' | 'image';
  /** Frames in the media (estimated from duration × rate when the container does not say). */
  totalFrames: number;
  framesDecoded: number;
  keyframesDecoded: number;
  windows: { startSeconds: number; endSeconds: number; frames: number }[];
  /** Seconds of the timeline within reach of a decoded frame (dense windows plus one frame interval per sweep frame). */
  secondsCovered: number;
  durationSeconds: number | null;
  decodeWidth: number;
  decodeHeight: number;
}

export interface FrameSample {
  frames: SampledFrame[];
  windows: DenseWindow[];
  plan: SamplingPlan;
}
