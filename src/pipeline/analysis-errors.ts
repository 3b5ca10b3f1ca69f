/** The file is not media we analyse (sniffing failed); `code` is stable for callers and problem types. */
export class UnsupportedMediaError extends Error {
  readonly code = 'unsupported-media-type';

  constructor(detail: string) {
    super(detail);
    this.name = 'UnsupportedMediaError';
  }
}
