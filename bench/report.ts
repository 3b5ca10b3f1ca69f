import { writeFile } from 'node:fs/promises';
import type { RssFigures } from './rss.js';
import { formatTable, mib, megabytes, ratio, seconds } from './table.js';
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
  settings: { clipSeconds: number; uploadMiB: number };
  media: {
    clip: { path: string; bytes: number; seconds: number; video: string };
    uploadFile: { path: string; bytes: number };
  };
  timeToReport: TimeToReportFigures;
  uploadThroughput: UploadThroughputFigures;
}

export function formatReport(results: BenchResults): string {
  const { environment: env, media, timeToReport: ttr, uploadThroughput: up } = results;
  const tus = 'error' in up.tus ? null : up.tus;
  const tusLabel = `platform: tus, ${up.tus.chunkBytes / 2 ** 20} MiB PATCHes → finished`;
  return [
    `SecureAI Guardian bench, ${results.generatedAt}`,
    `node ${env.node} · ffmpeg ${env.ffmpeg} · ${env.cpus} × ${env.cpuModel} · ${(env.memoryMiB / 1024).toFixed(1)} GiB RAM · load avg ${env.loadAverage.start.toFixed(1)} → ${env.loadAverage.end.toFixed(1)}`,
    `clip: ${media.clip.video}, ${megabytes(media.clip.bytes)}; upload file: ${megabytes(media.uploadFile.bytes)} (clip looped, stream copy)`,
    '',
    formatTable(
      [`Time to report (${media.clip.seconds} s clip)`, 'seconds', '× decode'],
      [
        ['baseline: ffmpeg -i clip -f null - (decode only)', seconds(ttr.decodeBaselineMs), ratio(1)],
        ['platform: multipart upload → 201', seconds(ttr.platform.uploadMs), ''],
        ['platform: 201 → analysis done (polled every 100 ms)', seconds(ttr.platform.analysisMs), ''],
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
    '',
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
    '',
    formatTable(
      ['Peak RSS (MiB)', 'VmHWM', 'polled VmRSS', 'polled with children'],
      [
        rssRow('platform, time to report', ttr.platform.rss),
        rssRow('guardian analyze --json (exited: no VmHWM)', ttr.analyzeCli.rss),
        rssRow('baseline sink server, upload', up.baseline.rss),
        rssRow('platform, multipart upload', up.multipart.rss),
        ...(tus ? [rssRow('platform, tus upload', tus.rss)] : []),
      ],
    ),
    '  polled every 100 ms; "with children" adds the ffmpeg/ffprobe processes it spawned (not the esbuild of tsx)',
  ].join('\n');
}

export async function writeResults(path: string, results: BenchResults): Promise<void> {
  await writeFile(path, JSON.stringify(results, null, 2) + '\n');
}

function rssRow(label: string, rss: RssFigures): string[] {
  return [label, mib(rss.hwmMiB), mib(rss.sampledPeakMiB), mib(rss.treeSampledPeakMiB)];
}
