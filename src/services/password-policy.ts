import { dictionary } from '@zxcvbn-ts/language-common';
import { badRequest } from './errors.js';

/** ASVS 6.2: at least 8 characters, 64 and more accepted, no composition rules, no truncation. */
export const minPasswordLength = 8;
/** Generous (passphrases fit), but bounded: every character is hashed, none is dropped. */
export const maxPasswordLength = 256;
const commonPasswordCount = 10_000;

// The list is ranked by frequency; the most common 10 000 are refused, compared case-insensitively.
const commonPasswords = new Set(
  dictionary['passwords-common'].slice(0, commonPasswordCount).map((password) => password.toLowerCase()),
);

/** One form per password whatever the keyboard or input method produced (compatibility composition). */
export function normalisePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Throws a 400 problem (`password-too-short`, `password-too-long`, `password-too-common`) when refused. */
export function assertAcceptablePassword(password: string): void {
  const normalised = normalisePassword(password);
  const length = [...normalised].length;
  if (length < minPasswordLength) {
    throw badRequest('password-too-short', `the password must have at least ${minPasswordLength} characters`);
  }
  if (length > maxPasswordLength) {
    throw badRequest('password-too-long', `the password may have at most ${maxPasswordLength} characters`);
  }
  if (commonPasswords.has(normalised.toLowerCase())) {
    throw badRequest(
      'password-too-common',
      'this password is among the most common ones and is easily guessed; choose another',
    );
  }
}
