import type { KnownStream, MediaInput, MediaTools } from '../../media/media-probe.js';
import type { DisplayFrame } from './display-order-frames.js';
import { median } from './statistics.js';

/**
 * Whether the frames under a spike grid were pictures coded afresh. At an I-frame of an earlier
 * encoding the whole picture was quantised anew, so after decoding its textured parts change at once,
 * on a frame where they otherwise change little; a change in what is shown (a test pattern's clock
 * ticking, an animation cycle) moves only its own part of the picture. Packet sizes cannot tell the two
 * apart; the pictures can confirm the first but not rule it out: where everything moves (a zoom), or
 * the earlier encoding was fine, a refresh hides in the motion.
 *
 * Per frame: the share of textured 8×8 blocks whose change from the frame before is more than twice
 * their change into and out of the neighbouring frames (a block that jumps on this frame only). The
 * keyframes of the file as it is are pictures coded afresh too, the control: the grid must stand out
 * at least a quarter as far as they do (a small part of the picture changing in a rhythm stands out
 * against still content, but not like a keyframe), and without a keyframe decoded nothing is confirmed.
 */

const blockShift = 3;
const blockSize = 1 << blockShift;
/** Mean absolute gradient (grey levels) a block needs to carry texture that requantisation would touch. */
const minTexture = 3;
/** A block jumps when its change is at least this many times its neighbouring changes... */
const jumpFactor = 2;
/** ...and at least this many grey levels on average. */
const minJump = 0.5;
const minTexturedBlocks = 16;

export interface GreyFrame {
  /** Presentation position in the stream. */
  index: number;
  width: number;
  height: number;
  /** One byte per pixel. */
  data: Uint8Array;
}

/** Streams consecutive grey frames and keeps, per position, the share of textured blocks that jump there. */
export class RefreshMeter {
  /** NaN where unknown (first and last frame, gaps, frames without texture). */
  readonly shares: Float32Array;
  private previous: GreyFrame | null = null;
  private previousChange: Float32Array | null = null;
  private previousTexture: Float32Array | null = null;
  private earlierChange: Float32Array | null = null;

  constructor(frameCount: number) {
    this.shares = new Float32Array(frameCount).fill(Number.NaN);
  }

  add(frame: GreyFrame): void {
    const previous = this.previous;
    const consecutive =
      previous !== null &&
      previous.index === frame.index - 1 &&
      previous.width === frame.width &&
      previous.height === frame.height;
    const change = consecutive ? blockChange(previous, frame) : null;
    // The previous frame's share needs its change in, its change out (this one) and the change into it.
    if (change && this.previousChange && this.earlierChange && this.previousTexture && previous) {
      this.shares[previous.index] = jumpShare(
        this.earlierChange,
        this.previousChange,
        change,
        this.previousTexture,
      );
    }
    this.earlierChange = change ? this.previousChange : null;
    this.previousChange = change;
    this.previousTexture = blockTexture(frame);
    this.previous = frame;
  }
}

/** Decode width: requantisation shows along edges, which survive this much downscaling. */
const decodeWidth = 640;

/**
 * Decodes positions [0, end) of the stream as grey pictures and measures each; null when the frames
 * have no timestamps to place the decoded pictures by.
 */
export async function measureRefresh(
  tools: Pick<MediaTools, 'window'>,
  input: MediaInput,
  request: { stream: KnownStream; frames: readonly DisplayFrame[]; end: number; signal?: AbortSignal },
): Promise<Float32Array | null> {
  const frames = request.frames.slice(0, request.end + 1);
  const times = frames.map((frame) => frame.timeSeconds);
  if (frames.length < 3 || times.some((time) => time === null)) return null;
  const seconds = times as number[];
  const step = median(seconds.slice(1).map((time, i) => time - (seconds[i] as number)));
  if (!(step > 0)) return null;
  const start = seconds[0] as number;
  const meter = new RefreshMeter(frames.length);
  const pictures = tools.window(
    input,
    {
      streamIndex: request.stream.index,
      stream: request.stream,
      startSeconds: start,
      durationSeconds: (seconds.at(-1) as number) - start + step / 2,
      maxWidth: decodeWidth,
      pixelFormat: 'gray',
    },
    request.signal,
  );
  for await (const picture of pictures) {
    const index = nearestPosition(seconds, picture.timeSeconds);
    if (Math.abs((seconds[index] as number) - picture.timeSeconds) > 0.4 * step) continue;
    meter.add({ index, width: picture.width, height: picture.height, data: picture.data });
  }
  return meter.shares;
}

function nearestPosition(sorted: readonly number[], time: number): number {
  let [low, high] = [0, sorted.length - 1];
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((sorted[middle] as number) < time) low = middle + 1;
    else high = middle;
  }
  const before = Math.max(0, low - 1);
  return Math.abs((sorted[before] as number) - time) < Math.abs((sorted[low] as number) - time)
    ? before
    : low;
}

export type RefreshVerdict = 'whole-picture' | 'unconfirmed';

export interface RefreshJudgement {
  verdict: RefreshVerdict;
  /** Median jump share on the grid, at the file's keyframes (null: none decoded) and elsewhere. */
  teethShare: number | null;
  keyframeShare: number | null;
  ordinaryShare: number | null;
  teethJudged: number;
  /** Plain words for the explanation. */
  reason: string;
}

/** The grid stands out this many times above ordinary frames (their share floored at 1%)... */
const confirmRatio = 2.5;
/** ...and reaches this share of the keyframes' excess over ordinary frames. */
const keyframeLikeness = 0.25;
const minTeeth = 4;
const minOrdinary = 20;
const shareFloor = 0.01;

/**
 * @param layout.teeth grid positions (an earlier encoding's I-frames, if the spikes are what they seem)
 * @param layout.anchors per position, the next position that is not a B-frame (or itself): a grid
 *   position stands for any position up to it (its P-frame carries the spike of them all), so every
 *   position is measured as the largest share over that span, on the grid and off it alike
 * @param layout.margin positions this close to a grid position or keyframe are not ordinary
 */
export function judgeRefresh(
  shares: Float32Array,
  layout: { teeth: readonly number[]; keyframes: readonly number[]; anchors: Int32Array; margin: number },
): RefreshJudgement {
  const { teeth, keyframes, anchors, margin } = layout;
  const valueAt = (position: number): number | null => {
    let best: number | null = null;
    const last = Math.max(position, anchors[position] ?? position);
    for (let at = position; at <= last; at++) {
      const share = shares[at];
      if (share !== undefined && !Number.isNaN(share)) best = Math.max(best ?? 0, share);
    }
    return best;
  };
  const near = (position: number, others: readonly number[]) =>
    others.some((other) => Math.abs(position - other) <= margin);
  const values = (positions: Iterable<number>) => {
    const found: number[] = [];
    for (const position of positions) {
      const value = valueAt(position);
      if (value !== null) found.push(value);
    }
    return found;
  };
  const onGrid = values(teeth.filter((position) => !near(position, keyframes)));
  const atKeyframes = values(keyframes);
  const ordinary = values(
    [...shares.keys()].filter((position) => !near(position, teeth) && !near(position, keyframes)),
  );
  const judgement = {
    teethShare: onGrid.length >= minTeeth ? median(onGrid) : null,
    keyframeShare: atKeyframes.length > 0 ? median(atKeyframes) : null,
    ordinaryShare: ordinary.length >= minOrdinary ? median(ordinary) : null,
    teethJudged: onGrid.length,
  };
  const { teethShare, keyframeShare, ordinaryShare } = judgement;
  if (teethShare === null || ordinaryShare === null) {
    return {
      ...judgement,
      verdict: 'unconfirmed',
      reason: `too few decoded frames to compare (${onGrid.length} on the grid, ${ordinary.length} elsewhere)`,
    };
  }
  const percent = (share: number) => `${Math.round(share * 100)}%`;
  const measured = `${percent(teethShare)} of textured blocks jump on the grid frames, ${percent(ordinaryShare)} on others${keyframeShare === null ? '' : ` and ${percent(keyframeShare)} on the file's keyframes`}`;
  const standsOut = teethShare >= confirmRatio * Math.max(ordinaryShare, shareFloor);
  // Without a keyframe to compare with, content that changes in a rhythm could pass for a refresh.
  const likeKeyframes =
    keyframeShare !== null &&
    teethShare - ordinaryShare >= keyframeLikeness * (keyframeShare - ordinaryShare);
  return standsOut && likeKeyframes
    ? { ...judgement, verdict: 'whole-picture', reason: `${measured}: whole pictures coded afresh` }
    : { ...judgement, verdict: 'unconfirmed', reason: `${measured}: no sign of whole pictures coded afresh` };
}

function blockGrid(frame: GreyFrame): { columns: number; rows: number } {
  return { columns: Math.floor(frame.width / blockSize), rows: Math.floor(frame.height / blockSize) };
}

/** Mean absolute difference per block between two frames of the same size. */
function blockChange(before: GreyFrame, after: GreyFrame): Float32Array {
  const { columns, rows } = blockGrid(after);
  const sums = new Float32Array(columns * rows);
  const { width } = after;
  const [was, is] = [before.data, after.data];
  for (let y = 0; y < rows * blockSize; y++) {
    const row = (y >> blockShift) * columns;
    const offset = y * width;
    for (let column = 0; column < columns; column++) {
      let sum = 0;
      for (let x = offset + column * blockSize, end = x + blockSize; x < end; x++) {
        sum += Math.abs((is[x] as number) - (was[x] as number));
      }
      sums[row + column] = (sums[row + column] as number) + sum;
    }
  }
  return perPixel(sums);
}

/** Mean absolute horizontal plus vertical gradient per block. */
function blockTexture(frame: GreyFrame): Float32Array {
  const { columns, rows } = blockGrid(frame);
  const sums = new Float32Array(columns * rows);
  const { width, height, data } = frame;
  for (let y = 0; y < rows * blockSize; y++) {
    const row = (y >> blockShift) * columns;
    const offset = y * width;
    const below = y + 1 < height ? width : 0;
    for (let column = 0; column < columns; column++) {
      let sum = 0;
      for (let x = offset + column * blockSize, end = x + blockSize; x < end; x++) {
        const here = data[x] as number;
        const right = x + 1 < offset + width ? (data[x + 1] as number) : here;
        sum += Math.abs(right - here) + Math.abs((data[x + below] as number) - here);
      }
      sums[row + column] = (sums[row + column] as number) + sum;
    }
  }
  return perPixel(sums);
}

function perPixel(sums: Float32Array): Float32Array {
  const area = blockSize * blockSize;
  for (let block = 0; block < sums.length; block++) sums[block] = (sums[block] as number) / area;
  return sums;
}

function jumpShare(
  into: Float32Array,
  change: Float32Array,
  out: Float32Array,
  texture: Float32Array,
): number {
  let textured = 0;
  let jumps = 0;
  for (let block = 0; block < change.length; block++) {
    if ((texture[block] as number) < minTexture) continue;
    textured += 1;
    const here = change[block] as number;
    const around = Math.max(into[block] as number, out[block] as number);
    if (here >= minJump && here > jumpFactor * around) jumps += 1;
  }
  return textured >= minTexturedBlocks ? jumps / textured : Number.NaN;
}
