import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attachmentDisposition, servedContentType } from '../../src/http/media-download.js';

/** Splits `attachment; filename="…"; filename*=UTF-8''…` into its two names (decoded). */
function parseDisposition(header: string): { ascii: string; utf8: string } {
  const match = /^attachment; filename="([^"\\]*)"; filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]*)$/.exec(
    header,
  );
  expect(match, header).not.toBeNull();
  return { ascii: match?.[1] ?? '', utf8: decodeURIComponent(match?.[2] ?? '') };
}

const mediaId = randomUUID();
const disposition = (filename: string | null, sniffedType = 'video/mp4') =>
  attachmentDisposition({ filename, mediaId, sniffedType });

describe('attachmentDisposition (RFC 6266 / RFC 8187)', () => {
  it.each([
    ['clip.mp4', 'clip.mp4'],
    ['Überwachung – 東京.mp4', 'Uberwachung _ __.mp4'],
    ['say "hi" 100%; ok.mp4', 'say _hi_ 100__ ok.mp4'],
    ["it's (1) *star*.mov", "it's (1) *star*.mov"],
    ['🎥 take.webm', '_ take.webm'],
  ])('%s: filename* decodes to the name, the fallback is plain quoted ASCII', (name, fallback) => {
    const header = disposition(name);
    const { ascii, utf8 } = parseDisposition(header);
    expect(utf8).toBe(name);
    expect(ascii).toBe(fallback);
    expect(header).toMatch(/^[\x20-\x7e]+$/);
  });

  it('percent-encodes what RFC 8187 attr-char leaves out, including quote and parentheses', () => {
    expect(disposition("a'(b)*.mp4")).toContain("filename*=UTF-8''a%27%28b%29%2A.mp4");
  });

  it('cleans a hostile stored name before it reaches the header', () => {
    const { ascii, utf8 } = parseDisposition(disposition('clip\u202E4pm.exe\r\nX-Evil: 1'));
    expect(utf8).toBe('clip4pm.exeX-Evil: 1');
    expect(ascii).toBe('clip4pm.exeX-Evil: 1');
  });

  it('names a file without a stored name after the media id and the sniffed type', () => {
    expect(parseDisposition(disposition(null, 'image/png')).utf8).toBe(`${mediaId}.png`);
    expect(parseDisposition(disposition('\u202E', 'video/quicktime')).utf8).toBe(`${mediaId}.mov`);
    expect(parseDisposition(disposition(null, 'text/html')).utf8).toBe(`${mediaId}.bin`);
  });
});

describe('servedContentType', () => {
  it.each(['video/mp4', 'video/quicktime', 'video/webm', 'image/jpeg', 'image/png', 'image/avif'])(
    'serves the sniffed %s as such',
    (type) => expect(servedContentType(type)).toBe(type),
  );

  it.each([
    'text/html',
    'image/svg+xml',
    'application/xhtml+xml',
    'text/xml',
    'application/pdf',
    'audio/mpeg',
    'VIDEO/MP4',
    'video/mp4; charset=utf-8',
    'toString',
    '__proto__',
    '',
  ])('serves %j as application/octet-stream', (type) => {
    expect(servedContentType(type)).toBe('application/octet-stream');
  });
});
