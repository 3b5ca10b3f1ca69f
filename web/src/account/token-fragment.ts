/**
 * The one-time token of a mailed link (`/reset-password#token=…`). It travels in the fragment, which the
 * browser never sends to a server, so it stays out of request lines, logs and Referer headers.
 */
export function tokenFromFragment(hash: string): string | null {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  const token = new URLSearchParams(fragment).get('token')?.trim();
  return token && /^[A-Za-z0-9_-]{1,128}$/.test(token) ? token : null;
}
