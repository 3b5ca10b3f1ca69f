import { writeFile } from 'node:fs/promises';
import type { CachedReadFigures } from './cached-read.js';
import type { MemoryFigures, ServeMemory, UploadMemory } from './memory.js';
import type { PipelineStageFigures } from './pipeline-stages.js';
import type { RssFigures } from './rss.js';
import type { StartupFigures } from './startup.js';
import { formatTable, mib, megabytes, ratio, seconds } from './table.js';
import { againstTarget, atLeastTarget, belowTarget, targets } from './targets.js';
import type { TimeToReportFigures } from './time-to-report.js';
import type { UploadThroughputFigures } from './upload-throughput.js';

export interface BenchResults {
  generatedAt: string;
  environment: {
    node: string;
    ffmpeg: string;
    cpus: number;
    cpuModel: string;
    memoryMiB: number;
    /** 1-minute load averages when the bench started and ended: other work on the machine skews every figure. */
    loadAverage: { start: number; end: number };
  };
  settings: { clipSeconds: number; uploadMiB: number; parts: readonly string[] };
  media: {
    /** Null when only the cache part ran. */
    clip: { path: string; bytes: number; seconds: number; video: string } | null;
    /** Null when neither the upload nor the memory part ran. */
    uploadFile: { path: string; bytes: number } | null;
  };
  /** Each part is absent when `--only` left it out. */
  timeToReport?: TimeToReportFigures;
  stages?: PipelineStageFigures[];
  uploadThroughput?: UploadThroughputFigures;
  memory?: MemoryFigures;
  startup?: StartupFigures;
  /** P4 in embedded mode, then scaled (or why it was skipped). */
  cachedRead?: CachedReadFigures[];
  cachedReadScaledSkipped?: string;
}

export function formatReport(results: BenchResults): string {
  const { environment: env, media } = results;
  return [
    `SecureAI Guardian bench, ${results.generatedAt} (parts: ${results.settings.parts.join(', ')})`,
    `node ${env.node} · ffmpeg ${env.ffmpeg} · ${env.cpus} × ${env.cpuModel} · ${(env.memoryMiB / 1024).toFixed(1)} GiB RAM · load avg ${env.loadAverage.start.toFixed(1)} → ${env.loadAverage.end.toFixed(1)}`,
    ...(media.clip
      ? [
          `clip: ${media.clip.video}, ${megabytes(media.clip.bytes)}${media.uploadFile ? `; upload file: ${megabytes(media.uploadFile.bytes)} (clip looped, stream copy)` : ''}`,
        ]
      : []),
    ...(results.timeToReport && media.clip
      ? ['', formatTimeToReport(results.timeToReport, media.clip.seconds)]
      : []),
    ...(results.stages && media.clip ? ['', formatStages(results.stages, media.clip.seconds)] : []),
    ...(results.uploadThroughput ? ['', formatUploadThroughput(results.uploadThroughput)] : []),
    ...(results.timeToReport || results.uploadThroughput ? ['', formatPeakRss(results)] : []),
    ...(results.memory ? ['', formatMemory(results.memory)] : []),
    ...(results.startup ? ['', formatStartup(results.startup)] : []),
    ...(results.cachedRead ?? []).flatMap((figures) => ['', formatCachedRead(figures)]),
    ...(results.cachedReadScaledSkipped ? [`  P4 scaled skipped: ${results.cachedReadScaledSkipped}`] : []),
  ].join('\n');
}

function formatTimeToReport(ttr: TimeToReportFigures, clipSeconds: number): string {
  return [
    formatTable(
      [`Time to report (${clipSeconds} s clip)`, 'seconds', '× decode'],
      [
        ['baseline: ffmpeg -i clip -f null - (decode only)', seconds(ttr.decodeBaselineMs), ratio(1)],
        ['platform: multipart upload → 201', seconds(ttr.platform.uploadMs), ''],
        ['platform: 201 → analysis done (polled every 100 ms)', seconds(ttr.platform.analysisMs), ''],
        [
          `platform: upload start → preliminary band (${ttr.platform.preliminaryBand ?? 'none'}, WebSocket)`,
          ttr.platform.preliminaryMs === null ? 'n/a' : seconds(ttr.platform.preliminaryMs),
          ttr.platform.preliminaryRatio === null ? '' : ratio(ttr.platform.preliminaryRatio),
        ],
        ['platform: total, upload start → done', seconds(ttr.platform.totalMs), ratio(ttr.platform.ratio)],
        [
          'guardian analyze --json (no server)',
          seconds(ttr.analyzeCli.elapsedMs),
          ratio(ttr.analyzeCli.ratio),
        ],
        ['  for reference: CLI start-up alone (guardian help)', seconds(ttr.analyzeCli.startupMs), ''],
      ],
    ),
    `  band: platform ${ttr.platform.band}, analyze ${ttr.analyzeCli.band}; ${ttr.platform.polls} polls, ${ttr.platform.rateLimitedPolls} rate-limited`,
  ].join('\n');
}

function formatStages(clips: PipelineStageFigures[], clipSeconds: number): string {
  return clips
    .map((clip) => {
      const rows: string[][] = [
        ['baseline: ffmpeg -i clip -f null - (decode only)', seconds(clip.decodeBaselineMs), ratio(1)],
        [
          `preliminary band (${clip.preliminaryBand ?? 'none'}), analysis start →`,
          clip.preliminaryMs === null ? 'n/a' : seconds(clip.preliminaryMs),
          clip.preliminaryMs === null ? '' : ratio(clip.preliminaryMs / clip.decodeBaselineMs),
        ],
        [
          `report (${clip.band}), analysis start →`,
          seconds(clip.reportMs),
          ratio(clip.reportMs / clip.decodeBaselineMs),
        ],
        [
          'CPU time: baseline ffmpeg / analysis (all threads and ffmpeg children)',
          `${seconds(clip.decodeBaselineCpuMs)} / ${seconds(clip.reportCpuMs)}`,
          ratio(clip.reportCpuMs / clip.decodeBaselineCpuMs),
        ],
        [
          '  ffmpeg/ffprobe children / main thread / face thread and other threads',
          [
            clip.reportChildCpuMs,
            clip.reportMainThreadCpuMs,
            clip.reportCpuMs - clip.reportChildCpuMs - clip.reportMainThreadCpuMs,
          ]
            .map(seconds)
            .join(' / '),
          '',
        ],
        ['  frames: decoding the sampling plan, start → end', optionalSeconds(clip.framesMs), ''],
        [`  faces: search start → end (${clip.facesFound ?? 0} tracks)`, optionalSeconds(clip.facesMs), ''],
        ...Object.entries(clip.detectorMs).map(([id, ms]) => [`  detector ${id}`, seconds(ms), '']),
      ];
      const timeline = clip.events
        .map((event) => `${(event.atMs / 1000).toFixed(2)} s ${event.stage} ${event.phase}`)
        .join(' · ');
      return [
        formatTable(
          [`Pipeline in-process, ${clip.clip} (${clipSeconds} s clip)`, 'seconds', '× decode'],
          rows,
        ),
        `  targets: report ≤ 1.0× decode, preliminary ≤ 0.25× decode (detector times overlap when they run together)`,
        `  stages: ${timeline}`,
      ].join('\n');
    })
    .join('\n\n');
}

const optionalSeconds = (ms: number | null) => (ms === null ? 'n/a' : seconds(ms));

function formatUploadThroughput(up: UploadThroughputFigures): string {
  const tus = 'error' in up.tus ? null : up.tus;
  const tusLabel = `platform: tus, ${up.tus.chunkBytes / 2 ** 20} MiB PATCHes → finished`;
  return [
    formatTable(
      [`Upload throughput (${megabytes(up.bytes)}, ${up.bytes} bytes)`, 'seconds', 'MB/s', '× baseline'],
      [
        [
          'baseline: node:http → file + fsync',
          seconds(up.baseline.elapsedMs),
          up.baseline.megabytesPerSecond.toFixed(1),
          ratio(1),
        ],
        [
          'platform: multipart → 201',
          seconds(up.multipart.elapsedMs),
          up.multipart.megabytesPerSecond.toFixed(1),
          ratio(up.multipart.ratio),
        ],
        tus
          ? [tusLabel, seconds(tus.elapsedMs), tus.megabytesPerSecond.toFixed(1), ratio(tus.ratio)]
          : [tusLabel, 'failed', '', ''],
      ],
    ),
    ...('error' in up.tus ? [`  tus failed: ${up.tus.error.split('\n')[0]}`] : []),
  ].join('\n');
}

function formatPeakRss({ timeToReport: ttr, uploadThroughput: up }: BenchResults): string {
  const tus = up && !('error' in up.tus) ? up.tus : null;
  return [
    formatTable(
      ['Peak RSS (MiB)', 'VmHWM', 'polled VmRSS', 'polled with children'],
      [
        ...(ttr
          ? [
              rssRow('platform, time to report', ttr.platform.rss),
              rssRow('guardian analyze --json (exited: no VmHWM)', ttr.analyzeCli.rss),
            ]
          : []),
        ...(up
          ? [
              rssRow('baseline sink server, upload', up.baseline.rss),
              rssRow('platform, multipart upload', up.multipart.rss),
              ...(tus ? [rssRow('platform, tus upload', tus.rss)] : []),
            ]
          : []),
      ],
    ),
    '  polled every 100 ms; "with children" adds the ffmpeg/ffprobe processes it spawned',
  ].join('\n');
}

function formatMemory(memory: MemoryFigures): string {
  const upload = `${megabytes(memory.uploadBytes)} multipart upload`;
  const { embedded, scaled } = memory;
  const rows: string[][] = [];
  const notes: string[] = [];
  const idleRow = (label: string, run: ServeMemory, target: number) =>
    rows.push([`${label}: idle (median VmRSS)`, ...againstTarget(run.idleMiB, target, 1)]);
  const uploadRow = (label: string, run: UploadMemory) => {
    rows.push([
      `${label}: RSS added by a ${upload}`,
      ...againstTarget(run.addedMiB, targets.uploadAddedMiB, 1),
    ]);
    notes.push(
      `  ${label} upload: ${mib(run.beforeMiB)} idle → ${mib(run.peakMiB)} peak (${run.peakSource}), ${seconds(run.elapsedMs)} s`,
    );
  };
  const first = embedded.firstStart;
  rows.push([
    'embedded serve, first start: peak (VmHWM, start-up + idle)',
    ...againstTarget(first.peakMiB, targets.embeddedFirstStartPeakMiB, 1),
  ]);
  notes.push(
    `  embedded first start: database from ${first.createdFrom ?? 'an existing directory'}, serving after ${seconds(first.startMs)} s; peak with its children (ffmpeg/ffprobe version checks) ${mib(first.treePeakMiB)}`,
  );
  idleRow('embedded serve, first start', first, targets.embeddedIdleMiB);
  idleRow('embedded serve, restarted', embedded.restarted, targets.embeddedIdleMiB);
  uploadRow('embedded serve', embedded.upload);
  if ('skipped' in scaled) {
    rows.push(['scaled serve (PostgreSQL)', 'skipped', '']);
    notes.push(`  scaled serve skipped: ${scaled.skipped}`);
  } else {
    idleRow('scaled serve (PostgreSQL)', scaled.idle, targets.scaledIdleMiB);
    uploadRow('scaled serve (PostgreSQL)', scaled.upload);
  }
  return [
    formatTable(['Memory (MiB)', 'measured / target', ''], rows),
    ...notes,
    `  idle: the second half of ${memory.idleSeconds} s without requests, default settings (one in-process worker);`,
    '  uploads on API-only servers (WORKER_CONCURRENCY=0), so no analysis of the file is counted',
  ].join('\n');
}

function formatStartup(startup: StartupFigures): string {
  const row = (label: string, timing: StartupFigures['help'], target?: number) => [
    label,
    ...(target === undefined
      ? [seconds(timing.medianMs), '']
      : againstTarget(timing.medianMs / 1000, target, 2)),
    seconds(timing.minMs),
  ];
  return [
    formatTable(
      [`Start-up (seconds, ${startup.runs} runs each, interleaved)`, 'median / target', '', 'min'],
      [
        row('node -e 0 (the floor on this machine, now)', startup.nodeBaseline),
        row('node bin/guardian.js help', startup.help, targets.helpSeconds),
        row(
          'guardian analyze --json: start-up (until ffprobe opens the file)',
          startup.analyzeStartup,
          targets.analyzeStartupSeconds,
        ),
        row(`guardian analyze --json: whole run on a 64x64 PNG`, startup.analyzeTotal),
      ],
    ),
    `  help ${ratio(startup.help.medianMs / startup.nodeBaseline.medianMs)} and analyze start-up ${ratio(startup.analyzeStartup.medianMs / startup.nodeBaseline.medianMs)} the node -e 0 floor measured alongside`,
  ].join('\n');
}

function formatCachedRead(figures: CachedReadFigures): string {
  const { hello, cachedReport, halfLoad } = figures;
  const perSecond = (value: number) => value.toFixed(0);
  const ms = (value: number) => value.toFixed(1);
  return [
    formatTable(
      [
        `Cached report GET, ${figures.mode} (P4; autocannon, ${figures.connections} connections, ${figures.durationSeconds} s each)`,
        'req/s',
        'p50 ms',
        'p99 ms',
      ],
      [
        [
          'baseline: bare Fastify hello route (own process, request logging)',
          perSecond(hello.requestsPerSecond),
          ms(hello.latencyP50Ms),
          ms(hello.latencyP99Ms),
        ],
        [
          `platform: GET /api/v1/analyses/:id, finished, from the cache (${figures.reportBytes} bytes)`,
          perSecond(cachedReport.requestsPerSecond),
          ms(cachedReport.latencyP50Ms),
          ms(cachedReport.latencyP99Ms),
        ],
        [
          `platform: same, at half that rate (overallRate ${halfLoad.rate}/s)`,
          perSecond(halfLoad.requestsPerSecond),
          ms(halfLoad.latencyP50Ms),
          ms(halfLoad.latencyP99Ms),
        ],
      ],
    ),
    formatTable(
      ['P4', 'measured / target', ''],
      [
        [
          'cached report req/s ÷ hello req/s (same run)',
          ...atLeastTarget(figures.ratio, targets.cachedReportRatio, 2),
        ],
        [
          'p99 at half the cached maximum (ms)',
          ...belowTarget(halfLoad.latencyP99Ms, targets.halfLoadP99Ms, 1),
        ],
      ],
    ),
    `  ${figures.mode === 'embedded' ? 'embedded mode: PGlite, in-process cache' : 'scaled mode: PostgreSQL, Redis cache'}; every request authenticated (API key looked up in the database), rate-limited`,
    `  and logged; keys rotate through ${figures.apiKeys} viewer keys on both targets so the 600/min per-key limit never answers`,
  ].join('\n');
}

export async function writeResults(path: string, results: BenchResults): Promise<void> {
  await writeFile(path, JSON.stringify(results, null, 2) + '\n');
}

function rssRow(label: string, rss: RssFigures): string[] {
  return [label, mib(rss.hwmMiB), mib(rss.sampledPeakMiB), mib(rss.treeSampledPeakMiB)];
}
