import type { MediaToolError } from '../media/media-tool-error.js';

/** The file is not media we analyse (sniffing failed); `code` is stable for callers and problem types. */
export class UnsupportedMediaError extends Error {
  readonly code = 'unsupported-media-type';

  constructor(detail: string) {
    super(detail);
    this.name = 'UnsupportedMediaError';
  }
}

/** The file looked like media but ffprobe could not read it. */
export class UnreadableMediaError extends Error {
  readonly code = 'media-unreadable';

  constructor(path: string, cause: MediaToolError) {
    super(`${path} is not readable media: ${cause.message}`, { cause });
    this.name = 'UnreadableMediaError';
  }
}
