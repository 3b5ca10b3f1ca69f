import { describe, expect, it } from 'vitest';
import { cleanFilename, maxFilenameBytes } from '../../src/media/filename.js';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

// Everything the cleaner must never let through, spelled out as ranges independently of the implementation.
const forbidden =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\u2028\u2029/\\]/u;

describe('cleanFilename', () => {
  it.each([
    ['a right-to-left override hiding .exe', 'clip\u202E4pm.exe', 'clip4pm.exe'],
    [
      'every bidi embedding, override and isolate',
      'a\u202Ab\u202Bc\u202Cd\u202De\u2066f\u2067g\u2068h\u2069i',
      'abcdefghi',
    ],
    ['implicit direction marks', 'a\u200Eb\u200Fc\u061Cd.mp4', 'abcd.mp4'],
    ['zero-width characters and the BOM', '\uFEFFcl\u200Bi\u200Cp\u200D\u2060.mp4', 'clip.mp4'],
    ['path traversal', '../../etc/passwd', '....etcpasswd'],
    ['Windows path separators', '..\\..\\windows\\win.ini', '....windowswin.ini'],
    ['NUL and other C0 controls', 'clip\u0000.mp4\u0000.txt\r\n\t', 'clip.mp4.txt'],
    ['DEL and C1 controls', 'cl\u007fip\u0085\u009b.mp4', 'clip.mp4'],
    ['line and paragraph separators', 'clip\u2028name\u2029.mp4', 'clipname.mp4'],
    ['Unicode tag characters (hidden text)', 'clip\u{E0061}\u{E0062}.mp4', 'clip.mp4'],
    ['surrounding spaces', '   clip final.mp4  ', 'clip final.mp4'],
    ['decomposed letters, composed to NFC', 'cafe\u0301 Ångstro\u0308m.mp4', 'café Ångström.mp4'],
    ['a removed character between a letter and its accent', 'e\u200B\u0301.mp4', 'é.mp4'],
    ['a lone surrogate', 'clip\uD800.mp4', 'clip.mp4'],
  ])('removes %s', (_, raw, expected) => {
    const cleaned = cleanFilename(raw);
    expect(cleaned).toBe(expected);
    expect(cleaned?.normalize('NFC')).toBe(cleaned);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an empty name', ''],
    ['only spaces', '   '],
    ['only controls and invisible characters', '\u0000\u202E\u200B\uFEFF\r\n'],
    ['only separators', '///\\\\'],
    ['a dot-only name', '..'],
    ['a traversal to the parent', '../..'],
  ])('gives null for %s', (_, raw) => {
    expect(cleanFilename(raw)).toBeNull();
  });

  it('keeps ordinary names, including non-Latin scripts and emoji, as they are', () => {
    for (const name of [
      'clip.mp4',
      'Interview 2024-05-01 (final).mov',
      'мост.mkv',
      '東京の夜.mp4',
      '🎥 take 2.webm',
    ]) {
      expect(cleanFilename(name)).toBe(name);
    }
  });

  it('cuts a long multibyte name on a character boundary within 255 bytes, keeping the extension', () => {
    const raw = `${'東'.repeat(200)}.mp4`; // 604 bytes
    const cleaned = cleanFilename(raw) ?? '';
    expect(bytes(cleaned)).toBeLessThanOrEqual(maxFilenameBytes);
    expect(cleaned).toBe(`${'東'.repeat(83)}.mp4`); // 83 × 3 + 4 = 253: an 84th character would not fit
    expect(cleaned).not.toContain('\uFFFD');
  });

  it('never splits a surrogate pair (4-byte characters)', () => {
    const cleaned = cleanFilename(`${'😀'.repeat(100)}.png`) ?? '';
    expect(cleaned).toBe(`${'😀'.repeat(62)}.png`);
    expect(Buffer.from(cleaned, 'utf8').toString('utf8')).toBe(cleaned);
  });

  it('keeps a letter with its combining marks together when cutting', () => {
    const accented = 'e\u0301\u0323'; // NFC keeps one mark combining: ẹ́ is 2 code points, 5 bytes
    const cleaned = cleanFilename(`${accented.repeat(100)}.mov`) ?? '';
    expect(bytes(cleaned)).toBeLessThanOrEqual(maxFilenameBytes);
    const stem = cleaned.slice(0, -'.mov'.length);
    const cluster = accented.normalize('NFC');
    expect(stem).toBe(cluster.repeat(stem.length / cluster.length));
    expect(cleaned.endsWith('.mov')).toBe(true);
  });

  it('cuts inside a single cluster that alone exceeds the limit (hundreds of combining marks)', () => {
    const cleaned = cleanFilename(`x${'\u0301\u0300'.repeat(400)}`) ?? '';
    expect(cleaned.startsWith('x\u0301')).toBe(true);
    expect(bytes(cleaned)).toBeLessThanOrEqual(maxFilenameBytes);
    expect(bytes(cleaned)).toBeGreaterThan(maxFilenameBytes - 2);
  });

  it('cuts a long name without an extension to 255 bytes', () => {
    expect(cleanFilename('x'.repeat(1000))).toBe('x'.repeat(255));
    expect(cleanFilename(`${'é'.repeat(200)}`)).toBe('é'.repeat(127));
  });

  it('keeps only what fits when the extension-like tail is not an extension', () => {
    const cleaned = cleanFilename(`${'a'.repeat(300)}.this has spaces`) ?? '';
    expect(cleaned).toBe('a'.repeat(255));
  });

  // Seeded random names from a hostile alphabet: invariants and idempotence (a cleaned name cleans to itself).
  it('holds its invariants on 500 random hostile names', () => {
    const alphabet = [
      'a',
      'Z',
      '0',
      '.',
      ' ',
      '/',
      '\\',
      '\u0000',
      '\u001f',
      '\u007f',
      '\u0085',
      '\u202E',
      '\u2066',
      '\u200B',
      '\u200D',
      '\uFEFF',
      '\u0301',
      '\u0308',
      'é',
      '東',
      '😀',
      '\uD800',
      '\uDC00',
      '\u2028',
      'ﬁ',
      'Å',
      '\u{E0041}',
    ];
    let seed = 0x2545f491;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    for (let run = 0; run < 500; run += 1) {
      const length = Math.floor(next() * 400);
      let raw = '';
      for (let i = 0; i < length; i += 1) raw += alphabet[Math.floor(next() * alphabet.length)];
      if (next() < 0.3) raw += '.mp4';
      const cleaned = cleanFilename(raw);
      if (cleaned === null) continue;
      const broken = [
        bytes(cleaned) > maxFilenameBytes && 'too long',
        forbidden.test(cleaned) && 'forbidden character',
        cleaned.normalize('NFC') !== cleaned && 'not NFC',
        cleaned.trim() !== cleaned && 'not trimmed',
        /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(cleaned) &&
          'lone surrogate',
        cleanFilename(cleaned) !== cleaned && 'not idempotent',
      ].filter(Boolean);
      expect(broken, JSON.stringify(raw)).toEqual([]);
    }
  });
});
