export type MediaToolName = 'ffmpeg' | 'ffprobe';

/** Why a tool run failed: it exited non-zero, went silent too long, could not start, or wrote unusable output. */
export type MediaToolFailure = 'exit' | 'timeout' | 'spawn' | 'output';

/** A failed ffmpeg/ffprobe run, carrying the exit code and the tail of its stderr for the report or log. */
export class MediaToolError extends Error {
  readonly tool: MediaToolName;
  readonly failure: MediaToolFailure;
  readonly exitCode: number | null;
  /** The last few KB of stderr (progress and per-frame lines left out). */
  readonly stderrTail: string;

  constructor(details: {
    tool: MediaToolName;
    failure: MediaToolFailure;
    exitCode: number | null;
    stderrTail: string;
    detail: string;
    cause?: unknown;
  }) {
    const lastLine = details.stderrTail.trim().split('\n').at(-1) ?? '';
    super(`${details.tool} ${details.detail}${lastLine ? `: ${lastLine}` : ''}`, { cause: details.cause });
    this.name = 'MediaToolError';
    this.tool = details.tool;
    this.failure = details.failure;
    this.exitCode = details.exitCode;
    this.stderrTail = details.stderrTail;
  }
}
