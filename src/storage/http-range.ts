import type { ByteRange } from './blob-store.js';

export type RangeRequest =
  { kind: 'whole' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' };

/**
 * RFC 9110 single byte-range parsing: `bytes=a-b`, `bytes=a-`, `bytes=-n`, end clamped to the size.
 * Several ranges or malformed values are refused rather than guessed at (media tools send one range).
 */
export function parseRangeHeader(header: string | undefined, sizeBytes: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'unsatisfiable' };
  const [first, last] = [match[1] ?? '', match[2] ?? ''];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || sizeBytes === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(sizeBytes - suffix, 0), end: sizeBytes - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? sizeBytes - 1 : Math.min(Number(last), sizeBytes - 1);
  if (!Number.isSafeInteger(start) || start >= sizeBytes || end < start) return { kind: 'unsatisfiable' };
  return { kind: 'partial', range: { start, end } };
}
