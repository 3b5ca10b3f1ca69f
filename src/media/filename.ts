/** Longest stored filename, in UTF-8 bytes (the usual file-system limit for one name). */
export const maxFilenameBytes = 255;

// Controls (C0, DEL, C1), invisible format characters (bidi embeddings, overrides and isolates, LRM/RLM/ALM,
// zero-width space/joiners, word joiner, BOM, tag characters), line/paragraph separators, path separators.
const removed = /[\p{Cc}\p{Cf}\u2028\u2029/\\]/gu;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// A short extension without spaces, kept when a long name is cut.
const extensionPattern = /\.[\p{L}\p{N}_-]{1,16}$/u;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The form an uploaded file's name is stored and shown in: NFC, without controls, bidi and zero-width
 * characters or path separators, trimmed, at most 255 UTF-8 bytes (cut between characters, the extension
 * kept). Null when nothing is left, or only dots. Idempotent: a cleaned name cleans to itself.
 */
export function cleanFilename(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  // Removed before normalising, so that a stripped character cannot keep two parts from composing.
  const cleaned = raw.replace(loneSurrogate, '').replace(removed, '').normalize('NFC').trim();
  if (/^[.\s]*$/u.test(cleaned)) return null;
  return utf8Bytes(cleaned) <= maxFilenameBytes ? cleaned : shorten(cleaned);
}

function shorten(name: string): string | null {
  const extension = extensionPattern.exec(name)?.[0] ?? '';
  const stem = name.slice(0, name.length - extension.length);
  const room = maxFilenameBytes - utf8Bytes(extension);
  const cut = cutToBytes(stem, room).trimEnd();
  const shortened = cut.length > 0 ? `${cut}${extension}` : cutToBytes(name, maxFilenameBytes).trimEnd();
  return /^[.\s]*$/u.test(shortened) ? null : shortened;
}

/** The longest prefix within `maxBytes`: whole grapheme clusters, or code points inside one huge cluster. */
function cutToBytes(text: string, maxBytes: number): string {
  let kept = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const bytes = utf8Bytes(segment);
    if (used + bytes > maxBytes) {
      // A single cluster too long for the limit (a base letter with hundreds of marks): cut inside it.
      if (kept.length === 0) return cutCodePoints(segment, maxBytes);
      break;
    }
    kept += segment;
    used += bytes;
  }
  return kept;
}

function cutCodePoints(text: string, maxBytes: number): string {
  let kept = '';
  let used = 0;
  for (const codePoint of text) {
    used += utf8Bytes(codePoint);
    if (used > maxBytes) break;
    kept += codePoint;
  }
  return kept;
}

const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');
