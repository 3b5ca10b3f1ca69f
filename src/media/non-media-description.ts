type Recogniser = { what: string; test: (text: string, bytes: Buffer) => boolean };

const markupWindow = 1024;

/** Checked in order: the first that matches names the file. Phrases fit "the file is ___, not media". */
const recognisers: Recogniser[] = [
  { what: 'a PDF document', test: (text) => text.startsWith('%PDF-') },
  { what: 'a ZIP archive', test: (text) => text.startsWith('PK\x03\x04') },
  { what: 'a Linux executable', test: (text) => text.startsWith('\x7fELF') },
  { what: 'a Windows executable', test: (text) => text.startsWith('MZ') },
  {
    what: 'SVG markup',
    test: (text) => /^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg[^>]*>\s*)?<svg[\s>]/i.test(text),
  },
  {
    what: 'HTML',
    test: (text) =>
      /^(<!doctype html|<html[\s>]|<head[\s>]|<body[\s>])/i.test(text) || htmlTagsNearStart(text),
  },
  { what: 'XML', test: (text) => text.startsWith('<?xml') },
  { what: 'a playlist (M3U/HLS)', test: (text) => text.startsWith('#EXTM3U') },
  {
    what: 'a script',
    test: (text) =>
      /^(#!|<\?php|(\(\s*)?function[\s(]|(var|let|const|import|export)\s|'use strict'|"use strict")/.test(
        text,
      ),
  },
  { what: 'JSON', test: (text) => /^[{[]\s*["{[\]}\d-]/.test(text) },
  { what: 'plain text', test: (_text, bytes) => mostlyPrintable(bytes) },
];

/**
 * Names what a non-media upload is (HTML, SVG, XML, a script...) so the refusal can say why;
 * null when the bytes are not recognisably anything. Only for files the media sniffer rejected.
 */
export function describeNonMedia(head: Buffer): string | null {
  const text = head
    .subarray(0, markupWindow)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (text === '') return head.length === 0 ? null : 'blank text';
  return recognisers.find((recogniser) => recogniser.test(text, head))?.what ?? null;
}

function htmlTagsNearStart(text: string): boolean {
  return (
    /<(script|iframe|html|body|head|meta|title|div)[\s>]/i.test(text.slice(0, markupWindow)) &&
    text.startsWith('<')
  );
}

function mostlyPrintable(bytes: Buffer): boolean {
  const sample = bytes.subarray(0, markupWindow);
  let printable = 0;
  for (const byte of sample)
    if (byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte !== 127)) printable += 1;
  return sample.length > 0 && printable / sample.length > 0.97 && !sample.includes(0);
}
