import { humanSentence, type Problem } from '../../api/problem.js';

export interface UploadFailure {
  message: string;
  /** Whether trying again can help (a lost connection, a busy server), unlike a refused file. */
  retryable: boolean;
}

/** A tus failure as a sentence: the server's problem+json when it answered, else a lost connection. */
export function describeUploadFailure(status: number | null, body: string | null): UploadFailure {
  if (status === null || status === 0) {
    return {
      message: 'The connection to the server was lost. Retry to continue where it stopped.',
      retryable: true,
    };
  }
  let problem: Problem = {};
  try {
    const parsed = JSON.parse(body ?? '') as unknown;
    if (typeof parsed === 'object' && parsed !== null) problem = parsed as Problem;
  } catch {
    // Not problem+json (e.g. a proxy's page): the status alone says enough.
  }
  const retryable = status >= 500 || status === 409 || status === 423 || status === 429;
  return { message: humanSentence(status, problem), retryable };
}
