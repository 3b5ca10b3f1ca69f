import { mkdir, writeFile } from 'node:fs/promises';
import { join, parse } from 'node:path';
import { faceManipulationKinds, type FaceManipulationKind } from './face-manipulations.js';
import type { FrameSink } from './ffmpeg-process.js';
import {
  openVideoWriter,
  postProcessVideo,
  resizeStill,
  shiftAudio,
  writeStill,
  type StillFormat,
  type VideoPost,
  type WriterTools,
} from './media-writer.js';
import type { Rect } from './rgb-image.js';
import { seededRandom, type SeededRandom } from './seeded-random.js';
import { noiseLevels, type NoiseLevel } from './sensor-noise.js';
import type { SourceImage } from './source-images.js';
import { createStillTwins, createVideoTwins } from './twin-frames.js';

export const setLabel = 'synthetic manipulations';

export const itemKinds = [...faceManipulationKinds, 'frame-duplication', 'audio-shift'] as const;
export type ItemKind = (typeof itemKinds)[number];

export interface EvalItem {
  id: string;
  /** Relative to the set's directory. */
  file: string;
  media: 'video' | 'image';
  label: 'authentic' | 'manipulated';
  /** The manipulation; null for authentic items. */
  kind: ItemKind | null;
  /** The authentic item this one was made from (same source, noise, format and post-processing). */
  twinOf: string | null;
  source: string;
  format: 'h264-crf20' | StillFormat;
  post: 'none' | VideoPost | 'resize-0.5';
  noise: string;
  /** The face in output pixels (first frame for video), before any post-processing resize. */
  faceBox: Rect;
  parameters: Record<string, number | string>;
}

export interface SetPlan {
  video: { width: number; height: number; fps: number; seconds: number; posts: VideoPost[] };
  stills: { formats: StillFormat[]; resize: boolean };
  /** How many source images to use (the first ones). */
  maxSources: number;
}

export const fullPlan: SetPlan = {
  video: { width: 1280, height: 720, fps: 30, seconds: 6, posts: ['crf23', 'crf28', 'resize-0.5'] },
  stills: { formats: ['jpeg-q90', 'jpeg-q75', 'png'], resize: true },
  maxSources: Number.POSITIVE_INFINITY,
};

/** A small set for CI: short low-resolution clips, one still format, no post-processing. */
export const quickPlan: SetPlan = {
  video: { width: 640, height: 360, fps: 30, seconds: 2, posts: [] },
  stills: { formats: ['jpeg-q90'], resize: false },
  maxSources: 2,
};

/** The full set's originals only: 6 s 720p30 CRF 20 clips and JPEG q90/PNG stills, without post-processing. */
export const corePlan: SetPlan = {
  video: { ...fullPlan.video, posts: [] },
  stills: { formats: ['jpeg-q90', 'png'], resize: false },
  maxSources: Number.POSITIVE_INFINITY,
};

export const setPlans = { quick: quickPlan, core: corePlan, full: fullPlan } as const;
export type SetPlanName = keyof typeof setPlans;

export interface SetRequest {
  sources: readonly SourceImage[];
  dir: string;
  /** The manipulations to make; none: an authentic-only set (the calibration reference), stills included. */
  kinds: readonly ItemKind[];
  plan: SetPlan;
  seed: number;
  tools: WriterTools;
  onItem?: (item: EvalItem) => void;
}

export interface SyntheticSet {
  label: typeof setLabel;
  seed: number;
  dir: string;
  items: EvalItem[];
}

/** Generates the labelled set offline from the face images; writes `manifest.json` beside the media. */
export async function generateSyntheticSet(request: SetRequest): Promise<SyntheticSet> {
  const sources = request.sources.slice(0, request.plan.maxSources);
  if (sources.length === 0) throw new Error('no source images to build the set from');
  await mkdir(request.dir, { recursive: true });
  const items: EvalItem[] = [];
  const add = (item: EvalItem) => {
    items.push(item);
    request.onItem?.(item);
  };
  const random = seededRandom(request.seed);
  for (const [index, source] of sources.entries()) {
    // The next source lends its face to face-splice; with one source there is no donor.
    const donor = sources.length > 1 ? (sources[(index + 1) % sources.length] ?? null) : null;
    const context = { ...request, source, donor, random: random.fork(source.name), index, add };
    await generateVideos(context);
    await generateStills(context);
  }
  const set: SyntheticSet = { label: setLabel, seed: request.seed, dir: request.dir, items };
  await writeFile(join(request.dir, 'manifest.json'), `${JSON.stringify(set, null, 2)}\n`);
  return set;
}

interface SourceContext extends SetRequest {
  source: SourceImage;
  donor: SourceImage | null;
  random: SeededRandom;
  index: number;
  add: (item: EvalItem) => void;
}

const faceKinds = (kinds: readonly ItemKind[]) =>
  faceManipulationKinds.filter((kind) => kinds.includes(kind));

async function generateVideos(context: SourceContext): Promise<void> {
  const { plan, source, tools } = context;
  const stem = parse(source.name).name;
  const noise = noiseLevel(context.index);
  const shot = { ...plan.video, frameCount: Math.round(plan.video.seconds * plan.video.fps) };
  const twins = createVideoTwins(
    {
      source,
      donor: context.donor,
      kinds: faceKinds(context.kinds),
      noise,
      random: context.random.fork('video'),
    },
    shot,
  );
  const format = { ...plan.video, crf: 20, audioSeed: 1 + (Math.floor(context.random.next() * 1e6) % 1e6) };
  const base = (id: string, fields: Partial<EvalItem>): EvalItem => ({
    id,
    file: `${id}.mp4`,
    media: 'video',
    label: 'manipulated',
    kind: null,
    twinOf: `${stem}-video`,
    source: source.name,
    format: 'h264-crf20',
    post: 'none',
    noise,
    faceBox: roundRect(twins.faceBox(0)),
    parameters: twins.parameters,
    ...fields,
  });
  const authentic = base(`${stem}-video`, { label: 'authentic', twinOf: null });
  const manipulated = twins.manipulations.map((manipulation) =>
    base(`${stem}-video-${manipulation.kind}`, {
      kind: manipulation.kind,
      parameters: { ...twins.parameters, ...manipulation.parameters },
    }),
  );
  const duplication = context.kinds.includes('frame-duplication')
    ? frozenFrames(shot.frameCount, context.random.fork('dup'))
    : null;
  const duplicated = duplication
    ? base(`${stem}-video-frame-duplication`, {
        kind: 'frame-duplication',
        parameters: { ...twins.parameters, frozenFrames: [...duplication].join(' ') },
      })
    : null;

  const writers = new Map<EvalItem, FrameSink>();
  try {
    for (const item of [authentic, ...manipulated, ...(duplicated ? [duplicated] : [])])
      writers.set(item, openVideoWriter(join(context.dir, item.file), format, tools));
    let previous: Uint8ClampedArray | null = null;
    for (let index = 0; index < shot.frameCount; index++) {
      const frame = twins.frame(index);
      const writes = [writers.get(authentic)!.write(frame.authentic.data)];
      for (const item of manipulated)
        writes.push(writers.get(item)!.write(frame.manipulated.get(item.kind as FaceManipulationKind)!.data));
      // A frozen frame repeats the previous picture exactly, noise and all.
      const shown: Uint8ClampedArray = duplication?.has(index) && previous ? previous : frame.authentic.data;
      if (duplicated) writes.push(writers.get(duplicated)!.write(shown));
      await Promise.all(writes);
      previous = shown;
    }
    await Promise.all([...writers.values()].map((writer) => writer.close()));
  } catch (error) {
    for (const writer of writers.values()) writer.kill();
    throw error;
  }
  const made = [authentic, ...manipulated, ...(duplicated ? [duplicated] : [])];
  made.forEach(context.add);

  for (const post of plan.video.posts) {
    for (const item of [authentic, ...manipulated]) {
      const id = `${item.id}-${post}`;
      await postProcessVideo(join(context.dir, item.file), join(context.dir, `${id}.mp4`), post, tools);
      context.add({
        ...item,
        id,
        file: `${id}.mp4`,
        post,
        twinOf: item.twinOf ? `${item.twinOf}-${post}` : null,
      });
    }
  }
  if (context.kinds.includes('audio-shift')) {
    const delayMs = Math.round(context.random.fork('audio').between(200, 500));
    const id = `${stem}-video-audio-shift`;
    await shiftAudio(join(context.dir, authentic.file), join(context.dir, `${id}.mp4`), delayMs, tools);
    context.add({
      ...authentic,
      id,
      file: `${id}.mp4`,
      label: 'manipulated',
      kind: 'audio-shift',
      twinOf: authentic.id,
      parameters: { ...authentic.parameters, audioDelayMs: delayMs },
    });
  }
}

/** Three short freezes (2–4 frames each repeat their predecessor), away from the clip's ends. */
function frozenFrames(frameCount: number, random: SeededRandom): Set<number> {
  const frozen = new Set<number>();
  const segment = Math.floor(frameCount / 3);
  for (let part = 0; part < 3; part++) {
    const length = 2 + Math.floor(random.next() * 3);
    const start = part * segment + 2 + Math.floor(random.next() * Math.max(1, segment - length - 4));
    for (let index = start; index < Math.min(frameCount - 1, start + length); index++) frozen.add(index);
  }
  return frozen;
}

async function generateStills(context: SourceContext): Promise<void> {
  const { plan, source, tools } = context;
  const stem = parse(source.name).name;
  const noise = noiseLevel(context.index + 1);
  const twins = createStillTwins({
    source,
    donor: context.donor,
    kinds: faceKinds(context.kinds),
    noise,
    random: context.random.fork('still'),
  });
  // In a labelled set, a still without a manipulated twin adds nothing to compare.
  if (twins.manipulations.length === 0 && context.kinds.length > 0) return;
  const frame = twins.frame(0);
  for (const format of plan.stills.formats) {
    const extension = format === 'png' ? 'png' : 'jpg';
    const authenticId = `${stem}-still-${format}`;
    const variants = [
      { id: authenticId, image: frame.authentic, kind: null, parameters: twins.parameters },
      ...twins.manipulations.map((manipulation) => ({
        id: `${authenticId}-${manipulation.kind}`,
        image: frame.manipulated.get(manipulation.kind)!,
        kind: manipulation.kind,
        parameters: { ...twins.parameters, ...manipulation.parameters },
      })),
    ];
    for (const variant of variants) {
      const item: EvalItem = {
        id: variant.id,
        file: `${variant.id}.${extension}`,
        media: 'image',
        label: variant.kind ? 'manipulated' : 'authentic',
        kind: variant.kind,
        twinOf: variant.kind ? authenticId : null,
        source: source.name,
        format,
        post: 'none',
        noise,
        faceBox: roundRect(frame.faceBox),
        parameters: variant.parameters,
      };
      await writeStill(join(context.dir, item.file), variant.image, format, tools);
      context.add(item);
      if (plan.stills.resize) {
        const id = `${item.id}-resize-0.5`;
        await resizeStill(
          join(context.dir, item.file),
          join(context.dir, `${id}.${extension}`),
          format,
          variant.image,
          tools,
        );
        context.add({
          ...item,
          id,
          file: `${id}.${extension}`,
          post: 'resize-0.5',
          twinOf: item.twinOf ? `${item.twinOf}-resize-0.5` : null,
        });
      }
    }
  }
}

/** Sources take the noise levels in turn. */
const noiseLevel = (index: number): NoiseLevel => noiseLevels[index % noiseLevels.length] ?? 'medium';

const roundRect = (rect: Rect): Rect => ({
  x: Number(rect.x.toFixed(1)),
  y: Number(rect.y.toFixed(1)),
  width: Number(rect.width.toFixed(1)),
  height: Number(rect.height.toFixed(1)),
});
