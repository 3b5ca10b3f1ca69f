// The server's password policy answers with these codes; its sentence is shown beside the password field.
const passwordProblemCodes = new Set(['password-too-short', 'password-too-long', 'password-too-common']);

/** The server's reason a new password was refused, or null when the error is about something else. */
export function newPasswordFeedback(error: unknown): string | null {
  // Read off the ApiError by shape, so this file needs no import (the Node test build checks it too).
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') return null;
  return passwordProblemCodes.has(error.code) ? error.message : null;
}

/** The two new-password fields must match before anything is sent. */
export function confirmationMismatch(password: string, confirmation: string): string | null {
  return password === confirmation ? null : 'The two passwords are not the same.';
}

export type SecondFactorProof = { code: string } | { recoveryCode: string };

/** Six digits are an authenticator code; anything longer is taken as a recovery code. */
export function secondFactorProof(value: string): SecondFactorProof {
  const compact = value.replace(/\s/g, '');
  return /^\d{6}$/.test(compact) ? { code: compact } : { recoveryCode: value.trim() };
}
