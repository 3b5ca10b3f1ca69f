/**
 * The report with every U+0000 in its strings replaced by U+FFFD. Text read from media (a JPEG comment, a
 * tag) may carry NUL characters, and PostgreSQL's jsonb refuses them: the report must store as it reads.
 */
export function withoutNulCharacters<T>(value: T): T {
  return replaceNul(value) as T;
}

function replaceNul(value: unknown): unknown {
  if (typeof value === 'string')
    return value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
  if (Array.isArray(value)) return value.map(replaceNul);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, entry]) => [replaceNul(key), replaceNul(entry)]),
    );
  }
  return value;
}
