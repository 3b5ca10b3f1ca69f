/** Rewrites the coded frame size in an H.264 sequence parameter set (the NAL unit, header byte included). */

function unescapeRbsp(nal: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < nal.length; i++) {
    const byte = nal[i] as number;
    if (byte === 3 && i >= 2 && nal[i - 1] === 0 && nal[i - 2] === 0) continue;
    out.push(byte);
  }
  return out;
}

function escapeRbsp(rbsp: number[]): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const byte of rbsp) {
    if (zeros >= 2 && byte <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

class BitReader {
  position = 0;
  constructor(private readonly bytes: number[]) {}
  bit(): number {
    const byte = this.bytes[this.position >> 3];
    if (byte === undefined) throw new Error('SPS ended early');
    const value = (byte >> (7 - (this.position & 7))) & 1;
    this.position += 1;
    return value;
  }
  bits(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) value = value * 2 + this.bit();
    return value;
  }
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) zeros += 1;
    return 2 ** zeros - 1 + this.bits(zeros);
  }
  se(): number {
    const code = this.ue();
    return code % 2 === 1 ? (code + 1) / 2 : -code / 2;
  }
}

class BitWriter {
  readonly bitsOut: number[] = [];
  bits(value: number, count: number) {
    for (let i = count - 1; i >= 0; i--) this.bitsOut.push(Math.floor(value / 2 ** i) % 2);
  }
  ue(value: number) {
    const code = value + 1;
    const length = Math.floor(Math.log2(code));
    this.bits(0, length);
    this.bits(code, length + 1);
  }
  bytes(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.bitsOut.length; i += 8) {
      let byte = 0;
      for (let j = 0; j < 8; j++) byte = byte * 2 + (this.bitsOut[i + j] ?? 0);
      out.push(byte);
    }
    return out;
  }
}

const highProfiles = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** The SPS with pic_width_in_mbs_minus1 / pic_height_in_map_units_minus1 replaced; everything else kept. */
export function rewriteSpsFrameSize(nal: Buffer, widthMbs: number, heightMapUnits: number): Buffer {
  const rbsp = unescapeRbsp(nal);
  const reader = new BitReader(rbsp);
  reader.bits(8); // NAL header
  const profile = reader.bits(8);
  reader.bits(16); // constraint flags, level
  reader.ue(); // seq_parameter_set_id
  if (highProfiles.has(profile)) {
    if (reader.ue() === 3) reader.bit(); // chroma_format_idc, separate_colour_plane_flag
    reader.ue();
    reader.ue();
    reader.bit();
    if (reader.bit() === 1) throw new Error('SPS scaling matrices are not supported by this rewriter');
  }
  reader.ue(); // log2_max_frame_num_minus4
  const pocType = reader.ue();
  if (pocType === 0) reader.ue();
  else if (pocType === 1) {
    reader.bit();
    reader.se();
    reader.se();
    const cycle = reader.ue();
    for (let i = 0; i < cycle; i++) reader.se();
  }
  reader.ue(); // max_num_ref_frames
  reader.bit(); // gaps_in_frame_num_value_allowed_flag
  const before = reader.position;
  reader.ue();
  reader.ue();
  const after = reader.position;
  const writer = new BitWriter();
  const prefix = new BitReader(rbsp);
  for (let i = 0; i < before; i++) writer.bits(prefix.bit(), 1);
  writer.ue(widthMbs - 1);
  writer.ue(heightMapUnits - 1);
  // The rest, minus the old trailing bits, then a fresh rbsp_stop_one_bit and alignment.
  const totalBits = rbsp.length * 8;
  let lastOne = totalBits - 1;
  const tail = new BitReader(rbsp);
  tail.position = lastOne;
  while (lastOne > after && tail.bit() === 0) tail.position = --lastOne;
  const rest = new BitReader(rbsp);
  rest.position = after;
  for (let i = after; i < lastOne; i++) writer.bits(rest.bit(), 1);
  writer.bits(1, 1);
  return escapeRbsp(writer.bytes());
}
