import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { runFfmpeg } from './media-fixtures.js';

/**
 * Malformed and hostile files of the kinds the outside corpus used, built at test time from
 * clips and stills ffmpeg makes: cut indexes, missing sample data, and headers claiming huge pictures.
 */

/** Top-level ISO BMFF boxes: type, offset, size. */
export function topLevelBoxes(file: Buffer): { type: string; offset: number; size: number }[] {
  const boxes: { type: string; offset: number; size: number }[] = [];
  for (let offset = 0; offset + 8 <= file.length;) {
    const size = file.readUInt32BE(offset);
    boxes.push({ type: file.toString('latin1', offset + 4, offset + 8), offset, size });
    if (size < 8) break;
    offset += size;
  }
  return boxes;
}

function box(file: Buffer, type: string) {
  const found = topLevelBoxes(file).find((candidate) => candidate.type === type);
  if (!found) throw new Error(`no ${type} box`);
  return found;
}

/** An H.264 MP4, 4 s at 25 fps (100 samples), GOP 25; `faststart` puts the index before the data. */
export async function h264Mp4(dir: string, name: string, faststart: boolean): Promise<string> {
  const output = join(dir, `${name}.mp4`);
  await runFfmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '4'],
    ...['-c:v', 'libx264', '-g', '25', '-pix_fmt', 'yuv420p', '-x264-params', 'scenecut=0'],
    ...(faststart ? ['-movflags', '+faststart'] : []),
    output,
  ]);
  return output;
}

/** Index (moov) at the end, cut in its middle: no sample table, no frame decodes. */
export async function mp4WithCutIndex(dir: string): Promise<string> {
  const file = await readFile(await h264Mp4(dir, 'moov-source', false));
  const moov = box(file, 'moov');
  const output = join(dir, 'moov-cut.mp4');
  await writeFile(output, file.subarray(0, moov.offset + Math.floor(moov.size / 2)));
  return output;
}

/** Complete index, then the mdat header and none of its data. */
export async function mp4WithoutSampleData(dir: string): Promise<string> {
  const file = await readFile(await h264Mp4(dir, 'no-mdat-source', true));
  const mdat = box(file, 'mdat');
  const output = join(dir, 'no-sample-data.mp4');
  await writeFile(output, file.subarray(0, mdat.offset + 8));
  return output;
}

/** Complete index, and only the first `keptShare` of the sample data. */
export async function mp4WithSampleDataCut(dir: string, keptShare: number): Promise<string> {
  const file = await readFile(await h264Mp4(dir, 'partial-source', true));
  const mdat = box(file, 'mdat');
  const output = join(dir, `sample-data-${Math.round(keptShare * 100)}.mp4`);
  await writeFile(output, file.subarray(0, mdat.offset + 8 + Math.floor((mdat.size - 8) * keptShare)));
  return output;
}

/** Writes bits MSB first, with exp-Golomb codes, into an RBSP with emulation prevention. */
class BitWriter {
  private readonly bits: number[] = [];
  u(count: number, value: number): this {
    for (let i = count - 1; i >= 0; i -= 1) this.bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }
  ue(value: number): this {
    const code = value + 1;
    const length = Math.floor(Math.log2(code)) + 1;
    return this.u(length - 1, 0).u(length, code);
  }
  rbsp(): Buffer {
    const bits = [...this.bits, 1];
    while (bits.length % 8) bits.push(0);
    const out: number[] = [];
    let zeros = 0;
    for (let i = 0; i < bits.length; i += 8) {
      const byte = parseInt(bits.slice(i, i + 8).join(''), 2);
      if (zeros >= 2 && byte <= 3) {
        out.push(3);
        zeros = 0;
      }
      out.push(byte);
      zeros = byte === 0 ? zeros + 1 : 0;
    }
    return Buffer.from(out);
  }
}

/** A baseline SPS declaring 65536×65528 (4096×4096 macroblocks, 8 rows cropped). */
export function bombSps(): Buffer {
  const bits = new BitWriter()
    .u(8, 66)
    .u(8, 0xc0)
    .u(8, 51)
    .ue(0) // seq_parameter_set_id
    .ue(0) // log2_max_frame_num_minus4
    .ue(2) // pic_order_cnt_type
    .ue(1) // max_num_ref_frames
    .u(1, 0)
    .ue(4095) // pic_width_in_mbs_minus1
    .ue(4095) // pic_height_in_map_units_minus1
    .u(1, 1) // frame_mbs_only
    .u(1, 1) // direct_8x8_inference
    .u(1, 1) // frame_cropping
    .ue(0)
    .ue(0)
    .ue(0)
    .ue(4)
    .u(1, 0); // vui_parameters_present
  return Buffer.concat([Buffer.from([0x67]), bits.rbsp()]);
}

/** An H.264 stream in MPEG-TS whose every SPS claims 65536×65528 (the slices are a 64×64 clip's). */
export async function h264SpsBomb(dir: string): Promise<string> {
  const elementary = join(dir, 'sps-source.h264');
  await runFfmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=25', '-t', '4'],
    ...['-c:v', 'libx264', '-profile:v', 'baseline', '-g', '25', '-pix_fmt', 'yuv420p', '-f', 'h264'],
    elementary,
  ]);
  const stream = await readFile(elementary);
  const parts: Buffer[] = [];
  const startCode = Buffer.from([0, 0, 0, 1]);
  let replaced = 0;
  let offset = stream.indexOf(startCode);
  while (offset >= 0) {
    const next = stream.indexOf(startCode, offset + 4);
    const unit = stream.subarray(offset + 4, next < 0 ? stream.length : next);
    if (((unit[0] ?? 0) & 0x1f) === 7) {
      parts.push(startCode, bombSps());
      replaced += 1;
    } else parts.push(startCode, unit);
    offset = next;
  }
  if (replaced === 0) throw new Error('no SPS found to replace');
  const edited = join(dir, 'sps-bomb.h264');
  await writeFile(edited, Buffer.concat(parts));
  const output = join(dir, 'sps-bomb.ts');
  await runFfmpeg(['-f', 'h264', '-i', edited, '-c', 'copy', '-f', 'mpegts', output]);
  return output;
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (crcTable[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid PNG structure whose IHDR claims width×height, with `rows` rows of grey RGB pixels. */
export function pngClaiming(
  width: number,
  height: number,
  rows: number,
  options: { iend?: boolean } = {},
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + width * 3, 0x80);
  row[0] = 0;
  const pixels = deflateSync(Buffer.concat(Array.from({ length: rows }, () => row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', pixels),
    ...(options.iend === false ? [] : [pngChunk('IEND', Buffer.alloc(0))]),
  ]);
}

/** A 320×240 baseline JPEG still from ffmpeg. */
export async function jpegStill(dir: string, name = 'still'): Promise<string> {
  const output = join(dir, `${name}.jpg`);
  await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240', '-frames:v', '1', '-q:v', '3', output]);
  return output;
}

/** A real JPEG (a few rows of data) whose SOF0 header is patched to claim 65535×65535. */
export async function jpegClaimingHuge(dir: string): Promise<string> {
  const file = await readFile(await jpegStill(dir, 'jpeg-bomb-source'));
  const sof = file.indexOf(Buffer.from([0xff, 0xc0]));
  if (sof < 0) throw new Error('no SOF0 marker');
  file.writeUInt16BE(65535, sof + 5);
  file.writeUInt16BE(65535, sof + 7);
  const output = join(dir, 'jpeg-bomb.jpg');
  await writeFile(output, file);
  return output;
}

/** The first `share` of a JPEG: no end-of-image marker. */
export async function jpegCut(dir: string, share: number): Promise<string> {
  const file = await readFile(await jpegStill(dir, 'jpeg-cut-source'));
  const output = join(dir, `jpeg-cut-${Math.round(share * 100)}.jpg`);
  await writeFile(output, file.subarray(0, Math.floor(file.length * share)));
  return output;
}
