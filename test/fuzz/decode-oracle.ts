import { execFile } from 'node:child_process';
import { resolveFfmpegBinaries } from '../../src/media/ffmpeg-binaries.js';

let ffprobePath: Promise<string> | undefined;

/**
 * How many frames of the first video stream ffmpeg's decoders actually return for this file, decoding it
 * whole: the test's own judgement of whether any media is there, independent of the platform's code.
 * null when the decode did not finish in time (then no claim is made either way).
 */
export async function decodedVideoFrames(path: string, timeoutMs = 30_000): Promise<number | null> {
  ffprobePath ??= resolveFfmpegBinaries({
    ffmpegPath: process.env.FFMPEG_PATH,
    ffprobePath: process.env.FFPROBE_PATH,
    searchPath: process.env.PATH ?? '',
  }).then((binaries) => binaries.ffprobe.path);
  const binary = await ffprobePath;
  return new Promise((resolve) => {
    execFile(
      binary,
      [
        ...['-v', 'quiet', '-select_streams', 'v:0', '-count_frames'],
        ...['-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path],
      ],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024 },
      (error, stdout) => {
        if (error && (error.killed || error.signal)) return resolve(null);
        // No video stream, or a file ffprobe cannot open: nothing decodes.
        const frames = Number.parseInt(stdout.trim(), 10);
        resolve(Number.isFinite(frames) ? frames : 0);
      },
    );
  });
}
