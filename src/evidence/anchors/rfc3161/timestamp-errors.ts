export type TimestampFailureReason =
  | 'network'
  | 'timeout'
  | 'http-status'
  | 'malformed-response'
  | 'rejected'
  | 'nonce-mismatch'
  | 'imprint-mismatch'
  /** The token arrived but does not verify against the configured roots (signature, chain, key usage). */
  | 'untrusted-token';

/** A TSA exchange that did not yield a token for our digest; `reason` is stable, the message says what happened. */
export class TimestampRequestError extends Error {
  constructor(
    readonly reason: TimestampFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TimestampRequestError';
  }
}
