/** An RFC 9457 problem the API answered with, turned into a sentence a person can act on. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: { path?: string; message?: string }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(humanSentence(status, problem));
    this.name = 'ApiError';
  }

  get code(): string | undefined {
    return this.problem.code;
  }
}

const sentencesByStatus: Record<number, string> = {
  401: 'You are not signed in, or your session has ended. Please sign in again.',
  403: 'Your account is not allowed to do this.',
  404: 'This item does not exist, or it belongs to another organisation.',
  409: 'This conflicts with the current state. Reload the page and try again.',
  413: 'The file or request is too large.',
  415: 'This type of file is not supported.',
  429: 'Too many attempts. Please wait a moment and try again.',
  503: 'The service is temporarily unavailable. Please try again shortly.',
};

/** The API's own detail is written for people; fall back on a sentence per status when it is missing. */
export function humanSentence(status: number, problem: Problem): string {
  const detail = problem.detail?.trim();
  if (detail) return sentenceCase(detail);
  if (problem.title) return sentenceCase(problem.title);
  return sentencesByStatus[status] ?? 'Something went wrong on the server. Please try again.';
}

function sentenceCase(text: string): string {
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError)
    return 'The server could not be reached. Check your connection and try again.';
  return 'Something went wrong. Please try again.';
}
