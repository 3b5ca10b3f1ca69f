import { cleanFilename } from '../media/filename.js';

/** Sniffed types served under their own name; anything else (text/html, image/svg+xml, …) goes out as bytes. */
const servedTypes: Record<string, string> = {
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/x-matroska': 'mkv',
  'video/webm': 'webm',
  'video/x-msvideo': 'avi',
  'video/mp2t': 'ts',
  'video/mpeg': 'mpg',
  'video/ogg': 'ogv',
  'video/3gpp': '3gp',
  'video/3gpp2': '3g2',
  'video/x-flv': 'flv',
  'video/x-ms-asf': 'asf',
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
  'image/tiff': 'tif',
  'image/avif': 'avif',
  'image/heic': 'heic',
  'image/heif': 'heif',
};

export const fallbackContentType = 'application/octet-stream';

export function servedContentType(sniffedType: string): string {
  return Object.hasOwn(servedTypes, sniffedType) ? sniffedType : fallbackContentType;
}

/**
 * RFC 6266 `attachment` with the name twice: `filename*` (RFC 8187, UTF-8, percent-encoded) for current
 * clients and a plain-ASCII `filename` for old ones. Without a stored name: `<media id>.<extension>`.
 */
export function attachmentDisposition(input: {
  filename: string | null;
  mediaId: string;
  sniffedType: string;
}): string {
  const extension = servedTypes[servedContentType(input.sniffedType)] ?? 'bin';
  const name = cleanFilename(input.filename) ?? `${input.mediaId}.${extension}`;
  return `attachment; filename="${asciiFallback(name)}"; filename*=UTF-8''${encodeRfc8187(name)}`;
}

/** Accents dropped (é → e), other non-ASCII and the characters a quoted-string or some clients mangle → `_`. */
function asciiFallback(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\x20-\x7e]|["\\%;]/gu, '_');
}

// RFC 8187 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~"; encodeURIComponent also leaves '()* unescaped.
function encodeRfc8187(name: string): string {
  return encodeURIComponent(name).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
