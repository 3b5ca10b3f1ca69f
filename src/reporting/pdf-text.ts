import type { PDFFont } from 'pdf-lib';

/** Shown in place of a character the PDF's standard fonts cannot draw (they cover WinAnsi only). */
export const replacementCharacter = '?';

// Symbols report texts use that WinAnsi lacks, written the way a plain-text reader would.
const spelledOut: Readonly<Record<string, string>> = {
  '≥': '>=',
  '≤': '<=',
  '≈': '~',
  '≠': '!=',
  '→': '->',
  '←': '<-',
  '−': '-',
  '‑': '-',
  '∞': 'infinity',
  '\u00a0': ' ',
  '\u2009': ' ',
  '\u202f': ' ',
};

export interface FontText {
  /** The text with every character the font cannot encode replaced (or spelled out). */
  text: string;
  /** How many characters became `?`. */
  replaced: number;
}

/**
 * Makes text drawable with a Standard 14 font: controls become spaces, known symbols are spelled out, and
 * anything else outside the font's character set becomes a visible `?` (never a crash, never a silent drop).
 */
export function textForFont(font: PDFFont, raw: string): FontText {
  const encodable = characterSet(font);
  let text = '';
  let replaced = 0;
  for (const character of raw) {
    const spelled = spelledOut[character];
    if (spelled !== undefined) {
      text += spelled;
    } else if (/[\p{Cc}\p{Zl}\p{Zp}]/u.test(character)) {
      text += ' ';
    } else if (encodable.has(character.codePointAt(0) ?? -1)) {
      text += character;
    } else {
      text += replacementCharacter;
      replaced += 1;
    }
  }
  return { text, replaced };
}

const characterSets = new WeakMap<PDFFont, ReadonlySet<number>>();

function characterSet(font: PDFFont): ReadonlySet<number> {
  let set = characterSets.get(font);
  if (!set) {
    set = new Set(font.getCharacterSet());
    characterSets.set(font, set);
  }
  return set;
}

/**
 * Lines of at most `maxWidth` points: breaks at spaces, and inside a word only when the word alone is wider
 * than a line (hashes, long file names). The text must already be drawable with `font`.
 */
export function wrapText(font: PDFFont, size: number, text: string, maxWidth: number): string[] {
  const width = (value: string) => font.widthOfTextAtSize(value, size);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/ +/).filter((part) => part !== '')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (width(candidate) <= maxWidth) {
      line = candidate;
      continue;
    }
    if (line !== '') lines.push(line);
    let rest = word;
    while (width(rest) > maxWidth) {
      const cut = longestFittingPrefix(rest, maxWidth, width);
      lines.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    line = rest;
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines;
}

function longestFittingPrefix(word: string, maxWidth: number, width: (value: string) => number): number {
  let cut = 1;
  // The text is WinAnsi by now: one UTF-16 unit per character, so slicing never splits one.
  while (cut < word.length && width(word.slice(0, cut + 1)) <= maxWidth) cut += 1;
  return cut;
}
