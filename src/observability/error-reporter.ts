/** Where unexpected failures go besides the log (Sentry when SENTRY_DSN is set); reporting never throws. */
export interface ErrorReporter {
  readonly enabled: boolean;
  /** A request answered 5xx: the error behind it and the request's route (never its URL or headers). */
  requestFailed(
    error: unknown,
    request: { method: string; route: string; status: number; requestId: string; traceId?: string },
  ): void;
  /** A job the queue gave up on: its last error line and which job it was. */
  jobFailed(failure: {
    job: string;
    jobId: string;
    attempts: number;
    cause: string;
    error: string;
    traceId?: string;
  }): void;
  /** Sends what is queued (bounded by timeoutMs) and stops. */
  close(timeoutMs: number): Promise<void>;
}

export const disabledErrorReporter: ErrorReporter = {
  enabled: false,
  requestFailed: () => {},
  jobFailed: () => {},
  close: async () => {},
};
