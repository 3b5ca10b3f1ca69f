/**
 * The face-blend-boundary statistic (residual step across the face's boundary ring) on `guardian eval`
 * core sets: authentic twins against resampled, smoothed and spliced faces, per media type. Generates the
 * set of each seed into DIR/seed-N (kept, and reused when its manifest is there) and runs the frames, the
 * face finder and this one detector. Not part of `npm test`: it takes minutes.
 *
 *   node --import tsx scripts/measure-face-blend-boundary.ts [--seeds 1,2] [--dir /tmp/face-blend-boundary]
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { rocAuc } from '../src/evaluation/roc-auc.js';
import { loadDebianSources } from '../src/evaluation/source-images.js';
import { corePlan, generateSyntheticSet, type EvalItem } from '../src/evaluation/synthetic-set.js';
import { createHumanFaceFinder } from '../src/faces/human-face-finder.js';
import { createFfmpegMediaTools } from '../src/media/ffmpeg.media-tools.js';
import { defaultMediaLimits } from '../src/media/media-limits.js';
import { createAnalysisPipeline } from '../src/pipeline/analysis-pipeline.js';
import { analyzeFile } from '../src/pipeline/analyze-file.js';
import { createFaceBlendBoundaryDetector } from '../src/pipeline/detectors/face-blend-boundary.detector.js';
import { createFfmpegFrameSampler } from '../src/pipeline/frames/ffmpeg-frame-sampler.js';
import { createMediaIntakeCheck } from '../src/pipeline/media-intake.js';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2' },
    dir: { type: 'string', default: '/tmp/face-blend-boundary' },
  },
});

const kinds = ['face-resample', 'face-smooth', 'face-splice'] as const;
const signal = new AbortController().signal;
const limits = defaultMediaLimits;
const mediaTools = await createFfmpegMediaTools({ limits });
const tools = { ffmpeg: mediaTools.binaries.ffmpeg.path, ffprobe: mediaTools.binaries.ffprobe.path, signal };
const pipeline = createAnalysisPipeline({
  mediaTools,
  detectors: [createFaceBlendBoundaryDetector()],
  intake: createMediaIntakeCheck({ limits }),
  frameSampler: createFfmpegFrameSampler({ mediaTools }),
  faceFinder: createHumanFaceFinder(),
});

const measured: { item: EvalItem; step: number | null; score: number | null }[] = [];
for (const seed of args.seeds.split(',').map(Number)) {
  const dir = join(args.dir, `seed-${seed}`);
  const items = existsSync(join(dir, 'manifest.json'))
    ? (JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { items: EvalItem[] }).items
    : (
        await generateSyntheticSet({
          sources: await loadDebianSources(tools),
          dir,
          kinds,
          plan: corePlan,
          seed,
          tools: { ffmpeg: tools.ffmpeg, signal },
        })
      ).items;
  for (const item of items) {
    const report = await analyzeFile(join(dir, item.file), { pipeline, signal });
    const finding = report.detectors.find((detector) => detector.id === 'face-blend-boundary');
    const step = finding?.measurements.residualStep;
    measured.push({ item, step: typeof step === 'number' ? step : null, score: finding?.score ?? null });
    console.log(`seed ${seed} ${item.id}: step ${step ?? '—'}, score ${finding?.score ?? '—'}`);
  }
}

const range = (values: number[]) =>
  values.length ? `${Math.min(...values).toFixed(2)}…${Math.max(...values).toFixed(2)}` : '—';
for (const media of ['image', 'video'] as const) {
  const of = (kind: string | null) =>
    measured.flatMap(({ item, step }) =>
      item.media === media && item.kind === kind && step !== null ? [step] : [],
    );
  const authentic = of(null);
  console.log(`\n${media}: authentic steps ${range(authentic)} (${authentic.length})`);
  for (const kind of kinds) {
    const steps = of(kind);
    const auc = rocAuc(steps, authentic);
    console.log(`  ${kind}: steps ${range(steps)} (${steps.length}), AUC ${auc?.toFixed(3) ?? '—'}`);
  }
}
