/** What the page knows about a chosen file before sending any of it. */
export interface FileFacts {
  name: string;
  size: number;
  /** The browser's guess from the name ("" when it has none). */
  type: string;
}

// Used only when the browser gives no type; the server decides from the file's bytes in any case.
const mediaExtensions = new Set([
  'mp4',
  'm4v',
  'mov',
  'qt',
  '3gp',
  'mkv',
  'webm',
  'avi',
  'ts',
  'mts',
  'm2ts',
  'mpg',
  'mpeg',
  'flv',
  'wmv',
  'asf',
  'ogv',
  'jpg',
  'jpeg',
  'png',
  'gif',
  'webp',
  'bmp',
  'tif',
  'tiff',
  'heic',
  'heif',
  'avif',
]);

/**
 * Why a file cannot be uploaded, as a sentence, or null when it may be sent. The server accepts video and
 * image files up to its MAX_UPLOAD_BYTES (tus `Tus-Max-Size`) and judges the type by the bytes themselves.
 */
export function fileProblem(file: FileFacts, maxBytes: number | null): string | null {
  if (file.size === 0) return `${file.name} is empty.`;
  if (maxBytes !== null && file.size > maxBytes) {
    return `${file.name} is ${formatBytes(file.size)}; this server accepts files up to ${formatBytes(maxBytes)}.`;
  }
  const family = file.type.split('/')[0];
  if (family === 'audio') return `${file.name} is an audio file; only video and image files are analysed.`;
  if (family === 'video' || family === 'image') return null;
  const extension = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase();
  if (!file.type && extension && mediaExtensions.has(extension)) return null;
  return `${file.name} is not a video or image file${file.type ? ` (${file.type})` : ''}; only video and image files are analysed.`;
}

/** Bytes in binary units as people read them: "950 B", "1.5 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 || value >= 100 ? Math.round(value).toString() : value.toFixed(1);
  return `${shown} ${units[unit]}`;
}
