/**
 * The av-offset detector on talking synthetic clips (test/helpers/talking-clip.ts: the astronaut face's jaw
 * dropping with a syllable envelope, a buzzing voice following it) with the audio moved by known offsets,
 * and on the quick eval set's audio-shift items and their authentic twins (still faces moved by a camera,
 * room-tone audio: the detector must abstain there). Prints one JSON line per clip and the lag errors.
 * Not part of `npm test`: it takes minutes.
 *
 *   node --import tsx scripts/measure-av-offset.ts [--seeds 1,2] [--delays 0,100,200,300,500,-300] [--dir /tmp/av-offset]
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDebianSources } from '../src/evaluation/source-images.js';
import { generateSyntheticSet, quickPlan } from '../src/evaluation/synthetic-set.js';
import { createHumanFaceFinder } from '../src/faces/human-face-finder.js';
import { createFfmpegMediaTools } from '../src/media/ffmpeg.media-tools.js';
import { defaultMediaLimits } from '../src/media/media-limits.js';
import { createAnalysisPipeline } from '../src/pipeline/analysis-pipeline.js';
import { analyzeFile } from '../src/pipeline/analyze-file.js';
import { createAvOffsetDetector } from '../src/pipeline/detectors/av-offset.detector.js';
import { createFfmpegFrameSampler } from '../src/pipeline/frames/ffmpeg-frame-sampler.js';
import { createMediaIntakeCheck } from '../src/pipeline/media-intake.js';
import { runFfmpeg } from '../test/helpers/media-fixtures.js';
import { talkingClip } from '../test/helpers/talking-clip.js';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2' },
    delays: { type: 'string', default: '0,100,200,300,500,-300' },
    dir: { type: 'string', default: '/tmp/av-offset' },
  },
});

const signal = new AbortController().signal;
const limits = defaultMediaLimits;
const mediaTools = await createFfmpegMediaTools({ limits });
const pipeline = createAnalysisPipeline({
  mediaTools,
  detectors: [createAvOffsetDetector()],
  intake: createMediaIntakeCheck({ limits }),
  frameSampler: createFfmpegFrameSampler({ mediaTools }),
  faceFinder: createHumanFaceFinder(),
});
await mkdir(args.dir, { recursive: true });

async function measure(path: string, fields: Record<string, unknown>) {
  const report = await analyzeFile(path, { pipeline, signal });
  const entry = report.detectors[0]!;
  const line: Record<string, unknown> & { score: number | null } = {
    ...fields,
    score: entry.score,
    reason: entry.reason ?? null,
    ...entry.measurements,
  };
  console.log(JSON.stringify(line));
  return line;
}

/** The clip with its audio moved by delayMs (negative: the picture moved later instead), stream copy. */
async function shifted(aligned: string, delayMs: number, output: string): Promise<string> {
  const offset = ['-itsoffset', (Math.abs(delayMs) / 1000).toFixed(3)];
  const [video, audio] = delayMs >= 0 ? [[], offset] : [offset, []];
  await runFfmpeg([
    ...[...video, '-i', aligned, ...audio, '-i', aligned],
    ...['-map', '0:v', '-map', '1:a', '-c', 'copy', '-movflags', '+faststart', output],
  ]);
  return output;
}

const errors: number[] = [];
let flagged = 0;
let gross = 0;
for (const seed of args.seeds.split(',').map(Number)) {
  const aligned = await talkingClip(args.dir, { name: `talking-${seed}`, seed });
  for (const delayMs of args.delays.split(',').map(Number)) {
    const path =
      delayMs === 0
        ? aligned
        : await shifted(aligned, delayMs, join(args.dir, `talking-${seed}-${delayMs}.mp4`));
    const line = await measure(path, { clip: `talking seed ${seed}`, delayMs });
    if (typeof line.lagMs === 'number') errors.push(Math.abs(line.lagMs - delayMs));
    if (Math.abs(delayMs) >= 250) gross += 1;
    if (Math.abs(delayMs) >= 250 && (line.score ?? 0) >= 0.7) flagged += 1;
  }
}
const sorted = [...errors].sort((a, b) => a - b);
console.log(
  JSON.stringify({
    talkingClipsMeasured: errors.length,
    lagErrorMsMedian: sorted[Math.floor(sorted.length / 2)] ?? null,
    lagErrorMsMax: sorted.at(-1) ?? null,
    grossOffsetsFlagged: `${flagged}/${gross}`,
  }),
);

const tools = { ffmpeg: mediaTools.binaries.ffmpeg.path, ffprobe: mediaTools.binaries.ffprobe.path, signal };
const set = await generateSyntheticSet({
  sources: await loadDebianSources(tools),
  dir: join(args.dir, 'eval-quick'),
  kinds: ['audio-shift'],
  plan: quickPlan,
  seed: 1,
  tools: { ffmpeg: tools.ffmpeg, signal },
});
for (const item of set.items.filter((candidate) => candidate.media === 'video'))
  await measure(join(set.dir, item.file), { clip: item.id, kind: item.kind ?? 'authentic' });
process.exit(0);
