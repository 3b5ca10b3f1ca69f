import type { MediaInput } from './media-probe.js';

/**
 * The input group of an ffmpeg/ffprobe command line. Plain paths go through the `file:` protocol so a
 * hostile name (`-y`, `concat:...`, `http://...`) is only ever a file name; only HTTP on 127.0.0.1
 * (the blob gateway) passes as a URL. The protocol whitelist stops a playlist-like file from reaching
 * other protocols.
 */
export function ffmpegInputArgs(input: MediaInput, inputOptions: readonly string[] = []): string[] {
  const [whitelist, url] = isLoopbackHttpUrl(input) ? ['http,tcp', input] : ['file', `file:${input}`];
  return ['-protocol_whitelist', whitelist, ...inputOptions, '-i', url];
}

export function isLoopbackHttpUrl(input: string): boolean {
  if (!input.startsWith('http://')) return false;
  try {
    return new URL(input).hostname === '127.0.0.1';
  } catch {
    return false;
  }
}
