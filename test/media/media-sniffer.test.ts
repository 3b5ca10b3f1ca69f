import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeNonMedia,
  sniffLength,
  sniffMedia,
  type SniffedMedia,
} from '../../src/media/media-sniffer.js';
import {
  createMediaTempDir,
  generateStill,
  runFfmpeg,
  type MediaTempDir,
  type StillFormat,
} from '../helpers/media-fixtures.js';

let temp: MediaTempDir;
beforeAll(async () => {
  temp = await createMediaTempDir();
});
afterAll(() => temp.remove());

async function head(path: string): Promise<Buffer> {
  const file = await open(path);
  try {
    const buffer = Buffer.alloc(sniffLength);
    const { bytesRead } = await file.read(buffer, 0, sniffLength, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

const video = ['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=10:duration=0.3'];
const audio = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=0.3'];

const generated: [
  file: string,
  args: string[],
  expected: Pick<SniffedMedia, 'kind' | 'mime' | 'container'>,
][] = [
  ['clip.mp4', [...video, '-c:v', 'libx264'], { kind: 'video', mime: 'video/mp4', container: 'mp4' }],
  ['clip.mov', [...video, '-c:v', 'libx264'], { kind: 'video', mime: 'video/quicktime', container: 'mov' }],
  ['clip.3gp', [...video, '-c:v', 'libx264'], { kind: 'video', mime: 'video/3gpp', container: '3gp' }],
  [
    'clip.mkv',
    [...video, '-c:v', 'libx264'],
    { kind: 'video', mime: 'video/x-matroska', container: 'matroska' },
  ],
  [
    'clip.webm',
    [...video, '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8'],
    { kind: 'video', mime: 'video/webm', container: 'webm' },
  ],
  ['clip.avi', [...video, '-c:v', 'mjpeg'], { kind: 'video', mime: 'video/x-msvideo', container: 'avi' }],
  ['clip.ts', [...video, '-c:v', 'libx264'], { kind: 'video', mime: 'video/mp2t', container: 'mpegts' }],
  [
    'clip.mpg',
    [...video, '-c:v', 'mpeg2video', '-f', 'mpeg'],
    { kind: 'video', mime: 'video/mpeg', container: 'mpegps' },
  ],
  ['clip.flv', [...video, '-c:v', 'flv'], { kind: 'video', mime: 'video/x-flv', container: 'flv' }],
  ['clip.ogv', [...video, '-c:v', 'libtheora'], { kind: 'video', mime: 'video/ogg', container: 'ogg' }],
  ['tone.ogg', [...audio, '-c:a', 'libvorbis'], { kind: 'audio', mime: 'audio/ogg', container: 'ogg' }],
  ['tone.wav', audio, { kind: 'audio', mime: 'audio/wav', container: 'wav' }],
  ['tone.mp3', [...audio, '-c:a', 'libmp3lame'], { kind: 'audio', mime: 'audio/mpeg', container: 'mp3' }],
  [
    'tone-bare.mp3',
    [...audio, '-c:a', 'libmp3lame', '-id3v2_version', '0', '-write_xing', '0'],
    { kind: 'audio', mime: 'audio/mpeg', container: 'mp3' },
  ],
  [
    'tone.aac',
    [...audio, '-c:a', 'aac', '-f', 'adts'],
    { kind: 'audio', mime: 'audio/aac', container: 'adts' },
  ],
  ['tone.m4a', [...audio, '-c:a', 'aac'], { kind: 'audio', mime: 'audio/mp4', container: 'mp4' }],
];

const stills: [StillFormat, Pick<SniffedMedia, 'mime' | 'container'>][] = [
  ['jpeg', { mime: 'image/jpeg', container: 'jpeg' }],
  ['png', { mime: 'image/png', container: 'png' }],
  ['gif', { mime: 'image/gif', container: 'gif' }],
  ['webp', { mime: 'image/webp', container: 'webp' }],
  ['tiff', { mime: 'image/tiff', container: 'tiff' }],
  ['bmp', { mime: 'image/bmp', container: 'bmp' }],
  ['avif', { mime: 'image/avif', container: 'avif' }],
];

describe('sniffMedia on files written by ffmpeg', () => {
  it.each(generated)('%s', async (file, args, expected) => {
    const path = join(temp.dir, file);
    await runFfmpeg([...args, path]);
    expect(sniffMedia(await head(path))).toEqual(expected);
  });

  it.each(stills)('%s still', async (format, expected) => {
    const path = await generateStill(temp.dir, { format });
    expect(sniffMedia(await head(path))).toEqual({ kind: 'image', ...expected });
  });
});

const ftyp = (major: string, ...compatible: string[]) => {
  const brands = [major, '\0\0\0\0', ...compatible].join('');
  const box = Buffer.alloc(8 + brands.length);
  box.writeUInt32BE(box.length, 0);
  box.write('ftyp', 4, 'latin1');
  box.write(brands, 8, 'latin1');
  return box;
};

describe('sniffMedia on crafted headers', () => {
  it.each([
    ['HEIC', ftyp('heic', 'mif1', 'heic'), { kind: 'image', mime: 'image/heic', container: 'heif' }],
    ['HEIF', ftyp('mif1', 'mif1', 'miaf'), { kind: 'image', mime: 'image/heif', container: 'heif' }],
    [
      'AVIF behind mif1',
      ftyp('mif1', 'avif', 'miaf'),
      { kind: 'image', mime: 'image/avif', container: 'avif' },
    ],
    ['3GPP2', ftyp('3g2a', '3g2a'), { kind: 'video', mime: 'video/3gpp2', container: '3gp' }],
    [
      'QuickTime without ftyp',
      Buffer.concat([
        Buffer.from([0, 0, 0, 8]),
        Buffer.from('wide'),
        Buffer.from([0, 0, 0x10, 0]),
        Buffer.from('mdat'),
      ]),
      { kind: 'video', mime: 'video/quicktime', container: 'mov' },
    ],
    ['M2TS (192-byte packets)', m2ts(), { kind: 'video', mime: 'video/mp2t', container: 'm2ts' }],
    [
      'Matroska DocType',
      Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x93, 0x42, 0x82, 0x88, ...Buffer.from('matroska')]),
      { kind: 'video', mime: 'video/x-matroska', container: 'matroska' },
    ],
    [
      'ASF',
      Buffer.from([0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9]),
      { kind: 'video', mime: 'video/x-ms-asf', container: 'asf' },
    ],
  ])('%s', (_name, bytes, expected) => {
    expect(sniffMedia(bytes)).toEqual(expected);
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['zeros', Buffer.alloc(512)],
    ['text that puts "free" at offset 4', Buffer.from("I'm free to upload this")],
    ['RIFF of another kind', Buffer.from('RIFF\0\0\0\0CDXA')],
    ['one stray 0x47', Buffer.concat([Buffer.from([0x47]), Buffer.alloc(400, 1)])],
    ['bytes that fail the MPEG audio header checks', Buffer.from([0xff, 0xff, 0xff, 0xff])],
    ['BM without a bitmap header', Buffer.from('BM this is not a bitmap')],
  ])('recognises nothing in %s', (_name, bytes) => {
    expect(sniffMedia(bytes)).toBeNull();
  });
});

function m2ts(): Buffer {
  const bytes = Buffer.alloc(192 * 4, 0xab);
  for (let i = 0; i < 4; i++) bytes[i * 192 + 4] = 0x47;
  return bytes;
}

describe('describeNonMedia', () => {
  it.each([
    ['<!DOCTYPE html><html><body>hi</body></html>', 'HTML'],
    ['\uFEFF  \n<html lang="en">', 'HTML'],
    ['<!-- saved page --><div><script>alert(1)</script></div>', 'HTML'],
    ['<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', 'SVG markup'],
    ['<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>', 'SVG markup'],
    ['<?xml version="1.0"?><feed></feed>', 'XML'],
    ['#!/bin/sh\nrm -rf /', 'a script'],
    ['const payload = require("x");', 'a script'],
    ['<?php echo 1; ?>', 'a script'],
    ['{"kind": "not media"}', 'JSON'],
    ['%PDF-1.7\n%', 'a PDF document'],
    ['PK\x03\x04\x14\x00', 'a ZIP archive'],
    ['#EXTM3U\n#EXTINF:10,\nhttp://example.com/a.ts', 'a playlist (M3U/HLS)'],
    ['Dear analyst, this is a letter.\n', 'plain text'],
  ])('%j is %s', (text, expected) => {
    expect(describeNonMedia(Buffer.from(text, 'utf8'))).toBe(expected);
  });

  it('says nothing about binary noise or nothing at all', () => {
    expect(describeNonMedia(Buffer.from([0x00, 0x9f, 0x12, 0xee, 0x00, 0x01]))).toBeNull();
    expect(describeNonMedia(Buffer.alloc(0))).toBeNull();
  });
});
