// `npm run bench`: time-to-report and upload throughput as ratios against baselines measured in the same run,
// the pipeline's stages in-process (where a report's time goes, with the preliminary band), then memory and
// start-up beside their targets, and P4 (a cached report GET against a bare Fastify hello route, autocannon).
// `npm run bench -- --only memory` (or stages, cache...) runs one part.
// BENCH_SECONDS (clip length, default 60) and BENCH_UPLOAD_MIB (upload file size, default 1024) shrink it;
// BENCH_LOAD_SECONDS (each P4 autocannon run, default 10) shortens P4;
// BENCH_DATABASE_URL (loopback PostgreSQL, default postgres://postgres@127.0.0.1:5432/test) hosts the scaled runs.
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { readBenchSettings, repoRoot, type BenchSettings } from './bench-settings.js';
import { createCleanup, type Cleanup } from './cleanup.js';
import {
  ensureFaceClip,
  ensureLargeVideo,
  ensureStill,
  ensureTestClip,
  ffmpegVersion,
  warmPageCache,
} from './media.js';
import { measureCachedRead, measureScaledCachedRead } from './cached-read.js';
import { measurePipelineStages } from './pipeline-stages.js';
import { measureMemory } from './memory.js';
import { runProcess } from './processes.js';
import { formatReport, writeResults, type BenchResults } from './report.js';
import { measureStartup } from './startup.js';
import { measureTimeToReport } from './time-to-report.js';
import { measureUploadThroughput } from './upload-throughput.js';

const faceFixture = join(repoRoot, 'test', 'fixtures', 'faces', 'astronaut-face.jpg');
const progress = (message: string) => console.error(`bench: ${message}`);

async function runBench(settings: BenchSettings, cleanup: Cleanup): Promise<void> {
  const loadAtStart = loadavg()[0] ?? 0;
  const runs = (part: BenchSettings['parts'][number]) => settings.parts.includes(part);
  await mkdir(settings.cacheDir, { recursive: true });
  const cached = (path: string) => relative(settings.repoRoot, path);

  // Every platform figure is of the built CLI, as `npm start` runs it; the build (and the database template
  // `npm ci` makes) are brought up to date first so that no figure is of stale code.
  // The stages part runs the sources in this process: it needs no build.
  if (settings.parts.some((part) => part !== 'stages')) {
    progress('building dist/ and the embedded database template (as npm ci does)');
    await runProcess('npm', ['run', '--silent', 'prepare'], {
      cleanup,
      cwd: settings.repoRoot,
      timeoutMs: 600_000,
    });
  }

  // P4 (cache) needs no clip: only the other parts pay for encoding one.
  const clip = settings.parts.some((part) => part !== 'cache') ? await prepareClip() : null;
  async function prepareClip() {
    progress(
      `preparing a ${settings.clipSeconds} s 1920x1080 clip in ${cached(settings.cacheDir)}/ (cached)`,
    );
    const prepared = await ensureTestClip(settings.cacheDir, settings.clipSeconds, cleanup);
    progress(
      `${prepared.generated ? 'generated' : 'reused'} ${cached(prepared.path)} (${prepared.bytes} bytes)`,
    );
    return prepared;
  }
  const uploadFile =
    clip && (runs('upload') || runs('memory'))
      ? await ensureLargeVideo(settings.cacheDir, clip, settings.uploadMiB * 2 ** 20, cleanup)
      : null;
  if (uploadFile)
    progress(
      `${uploadFile.generated ? 'generated' : 'reused'} ${cached(uploadFile.path)} (${uploadFile.bytes} bytes)`,
    );

  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    environment: {
      node: process.version,
      ffmpeg: await ffmpegVersion(cleanup),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      memoryMiB: Math.round(totalmem() / 2 ** 20),
      loadAverage: { start: loadAtStart, end: loadAtStart },
    },
    settings: { clipSeconds: settings.clipSeconds, uploadMiB: settings.uploadMiB, parts: settings.parts },
    media: {
      clip: clip && {
        path: cached(clip.path),
        bytes: clip.bytes,
        seconds: settings.clipSeconds,
        video: `${settings.clipSeconds} s 1920x1080 30 fps H.264 (libx264 veryfast, testsrc2 + noise) + AAC`,
      },
      uploadFile: uploadFile && { path: cached(uploadFile.path), bytes: uploadFile.bytes },
    },
  };

  if (runs('time-to-report') && clip) {
    progress('time to report: decode baseline, platform upload → report, guardian analyze');
    await warmPageCache(clip.path);
    results.timeToReport = await measureTimeToReport(clip, settings.clipSeconds, cleanup);
  }
  if (runs('stages') && clip) {
    const faceClip = await ensureFaceClip(settings.cacheDir, settings.clipSeconds, faceFixture, cleanup);
    progress(
      `${faceClip.generated ? 'generated' : 'reused'} ${cached(faceClip.path)} (${faceClip.bytes} bytes)`,
    );
    progress('pipeline stages in-process: decode baseline, preliminary band, report, per stage and detector');
    await warmPageCache(clip.path);
    await warmPageCache(faceClip.path);
    results.stages = await measurePipelineStages(
      [
        { name: 'pattern (no face)', media: clip },
        { name: 'one face', media: faceClip },
      ],
      settings.clipSeconds,
      cleanup,
    );
  }
  if (runs('upload') && uploadFile) {
    progress('upload throughput: baseline sink, platform multipart, platform tus');
    await warmPageCache(uploadFile.path);
    results.uploadThroughput = await measureUploadThroughput(uploadFile, cleanup);
  }
  if (runs('memory') && uploadFile) {
    progress('memory: embedded serve first start, restart and upload; scaled serve idle and upload');
    await warmPageCache(uploadFile.path);
    results.memory = await measureMemory(uploadFile, settings, cleanup);
    progress(
      `start-up: node -e 0, guardian help, guardian analyze --json, ${settings.startupRuns} runs each`,
    );
    const still = await ensureStill(settings.cacheDir, cleanup);
    results.startup = await measureStartup(still, settings.startupRuns, cleanup);
  }
  if (runs('cache')) {
    progress(
      `P4: cached report GET vs. bare Fastify hello, autocannon ${settings.loadSeconds} s runs, then half load`,
    );
    const still = await ensureStill(settings.cacheDir, cleanup);
    results.cachedRead = [await measureCachedRead(still, settings.loadSeconds, cleanup)];
    const scaled = await measureScaledCachedRead(still, settings, cleanup);
    if ('skipped' in scaled) results.cachedReadScaledSkipped = scaled.skipped;
    else results.cachedRead.push(scaled);
  }
  results.environment.loadAverage.end = loadavg()[0] ?? 0;

  console.log(formatReport(results));
  const resultsPath = join(settings.cacheDir, 'results.json');
  await writeResults(resultsPath, results);
  progress(`figures written to ${cached(resultsPath)}`);
}

const cleanup = createCleanup();
// Children and temp dirs go on every way out: normal end, failure, Ctrl-C, kill.
process.on('exit', () => cleanup.releaseAll());
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping children and removing temp dirs`);
    cleanup.releaseAll();
    process.exit(code);
  });
}

try {
  await runBench(readBenchSettings(), cleanup);
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  cleanup.releaseAll();
}
