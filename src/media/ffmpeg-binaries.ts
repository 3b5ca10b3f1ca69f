import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const versionTimeoutMs = 15_000;

export interface ResolvedBinary {
  path: string;
  /** As the binary reports it, e.g. `5.1.9-0+deb12u1`. */
  version: string;
  /** Where the path came from, for logs and reports. */
  source: 'environment' | 'PATH' | 'npm package';
}

export interface FfmpegBinaries {
  ffmpeg: ResolvedBinary;
  ffprobe: ResolvedBinary;
}

export interface BinarySettings {
  /** FFMPEG_PATH: explicit ffmpeg binary; must exist and be executable. */
  ffmpegPath?: string;
  /** FFPROBE_PATH: explicit ffprobe binary; must exist and be executable. */
  ffprobePath?: string;
  /** The PATH value to search when no explicit path is given. */
  searchPath: string;
}

export class FfmpegBinaryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FfmpegBinaryError';
  }
}

interface BinarySpec {
  name: 'ffmpeg' | 'ffprobe';
  variable: 'FFMPEG_PATH' | 'FFPROBE_PATH';
  explicit: string | undefined;
  packageName: string;
  installedPath: () => Promise<string>;
}

/** FFMPEG_PATH/FFPROBE_PATH when set, else the binaries on PATH, else the ones shipped by the npm installers; versions detected once here. */
export async function resolveFfmpegBinaries(settings: BinarySettings): Promise<FfmpegBinaries> {
  const [ffmpeg, ffprobe] = await Promise.all([
    resolveBinary(settings.searchPath, {
      name: 'ffmpeg',
      variable: 'FFMPEG_PATH',
      explicit: settings.ffmpegPath,
      packageName: '@ffmpeg-installer/ffmpeg',
      installedPath: async () => (await import('@ffmpeg-installer/ffmpeg')).default.path,
    }),
    resolveBinary(settings.searchPath, {
      name: 'ffprobe',
      variable: 'FFPROBE_PATH',
      explicit: settings.ffprobePath,
      packageName: '@ffprobe-installer/ffprobe',
      installedPath: async () => (await import('@ffprobe-installer/ffprobe')).default.path,
    }),
  ]);
  return { ffmpeg, ffprobe };
}

async function resolveBinary(searchPath: string, spec: BinarySpec): Promise<ResolvedBinary> {
  if (spec.explicit !== undefined && spec.explicit !== '') {
    if (!(await isExecutableFile(spec.explicit))) {
      throw new FfmpegBinaryError(`${spec.variable}=${spec.explicit} is not an executable file`);
    }
    return withVersion(spec.explicit, 'environment', spec.name);
  }
  for (const directory of searchPath.split(delimiter).filter(Boolean)) {
    const candidate = join(directory, spec.name);
    if (await isExecutableFile(candidate)) return withVersion(candidate, 'PATH', spec.name);
  }
  const installed = await spec.installedPath().catch((error: unknown) => {
    throw new FfmpegBinaryError(
      `${spec.name} not found: set ${spec.variable}, put ${spec.name} on PATH, or install ${spec.packageName}`,
      { cause: error },
    );
  });
  if (!(await isExecutableFile(installed))) {
    throw new FfmpegBinaryError(
      `${spec.name} from the npm package at ${installed} is not executable; set ${spec.variable}`,
    );
  }
  return withVersion(installed, 'npm package', spec.name);
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function withVersion(
  path: string,
  source: ResolvedBinary['source'],
  name: string,
): Promise<ResolvedBinary> {
  try {
    const { stdout } = await execFileAsync(path, ['-hide_banner', '-version'], { timeout: versionTimeoutMs });
    return { path, source, version: parseToolVersion(stdout) };
  } catch (error) {
    throw new FfmpegBinaryError(`${path} does not run as ${name} (${(error as Error).message})`, {
      cause: error,
    });
  }
}

/** First line of `-version` output: `ffmpeg version 5.1.9-0+deb12u1 Copyright ...` → `5.1.9-0+deb12u1`. */
export function parseToolVersion(output: string): string {
  return /^\S+ version (\S+)/.exec(output.trimStart())?.[1] ?? 'unknown';
}

/** `-fps_mode` replaced `-vsync` in FFmpeg 5.1; git builds (`N-...`) and older releases get `-vsync`. */
export function supportsFpsMode(version: string): boolean {
  const match = /^n?(\d+)\.(\d+)/.exec(version);
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > 5 || (major === 5 && minor >= 1);
}
