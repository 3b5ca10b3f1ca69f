import type { PictureSize } from './media-limits.js';

/**
 * The coded picture size an H.264 or HEVC sequence parameter set declares, read from the stream's
 * extradata (avcC / hvcC, or Annex B start codes). The decoder sizes its frames from this, whatever
 * the container's tkhd or the probe say.
 */
export function sequenceParameterSetSize(codec: string | null, extradata: Buffer): PictureSize | null {
  if (extradata.length < 4) return null;
  const nalUnits = extradata[0] === 1 ? configurationRecordUnits(codec, extradata) : annexBUnits(extradata);
  let largest: PictureSize | null = null;
  for (const unit of nalUnits) {
    const size = codec === 'h264' ? h264Sps(unit) : codec === 'hevc' ? hevcSps(unit) : null;
    if (size && (!largest || size.width * size.height > largest.width * largest.height)) largest = size;
  }
  return largest;
}

/** avcC: SPS count at byte 5; hvcC: arrays of NAL units from byte 22. */
function configurationRecordUnits(codec: string | null, data: Buffer): Buffer[] {
  const units: Buffer[] = [];
  if (codec === 'h264') {
    let offset = 6;
    const count = (data[5] ?? 0) & 0x1f;
    for (let i = 0; i < count && offset + 2 <= data.length; i += 1) {
      const length = data.readUInt16BE(offset);
      units.push(data.subarray(offset + 2, offset + 2 + length));
      offset += 2 + length;
    }
  } else if (codec === 'hevc' && data.length > 23) {
    let offset = 23;
    const arrays = data[22] ?? 0;
    for (let a = 0; a < arrays && offset + 3 <= data.length; a += 1) {
      const count = data.readUInt16BE(offset + 1);
      offset += 3;
      for (let i = 0; i < count && offset + 2 <= data.length; i += 1) {
        const length = data.readUInt16BE(offset);
        units.push(data.subarray(offset + 2, offset + 2 + length));
        offset += 2 + length;
      }
    }
  }
  return units;
}

function annexBUnits(data: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 3 <= data.length; i += 1) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts.map((start, index) => {
    const next = starts[index + 1];
    return data.subarray(start, next === undefined ? data.length : next - 3);
  });
}

/** Exp-Golomb bit reader over a NAL unit payload with emulation-prevention bytes removed. */
class BitReader {
  private bit = 0;
  private readonly bytes: Buffer;

  constructor(payload: Buffer) {
    const out: number[] = [];
    let zeros = 0;
    for (const byte of payload) {
      if (zeros >= 2 && byte === 3) {
        zeros = 0;
        continue;
      }
      out.push(byte);
      zeros = byte === 0 ? zeros + 1 : 0;
    }
    this.bytes = Buffer.from(out);
  }

  u(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i += 1) {
      const byte = this.bytes[this.bit >> 3];
      if (byte === undefined) throw new RangeError('parameter set ends early');
      value = value * 2 + ((byte >> (7 - (this.bit & 7))) & 1);
      this.bit += 1;
    }
    return value;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      zeros += 1;
      if (zeros > 31) throw new RangeError('exp-Golomb code too long');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const value = this.ue();
    return value % 2 ? (value + 1) / 2 : -value / 2;
  }
}

const highProfiles = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function h264Sps(unit: Buffer): PictureSize | null {
  if (((unit[0] ?? 0) & 0x1f) !== 7) return null;
  try {
    const bits = new BitReader(unit.subarray(1));
    const profile = bits.u(8);
    bits.u(16); // constraint flags, level
    bits.ue(); // seq_parameter_set_id
    let chromaFormat = 1;
    let separateColourPlanes = 0;
    if (highProfiles.has(profile)) {
      chromaFormat = bits.ue();
      if (chromaFormat === 3) separateColourPlanes = bits.u(1);
      bits.ue();
      bits.ue(); // bit depths
      bits.u(1); // qpprime_y_zero_transform_bypass
      if (bits.u(1)) {
        for (let i = 0; i < (chromaFormat === 3 ? 12 : 8); i += 1) {
          if (bits.u(1)) skipScalingList(bits, i < 6 ? 16 : 64);
        }
      }
    }
    bits.ue(); // log2_max_frame_num_minus4
    const pocType = bits.ue();
    if (pocType === 0) bits.ue();
    else if (pocType === 1) {
      bits.u(1);
      bits.se();
      bits.se();
      const cycle = bits.ue();
      if (cycle > 255) return null;
      for (let i = 0; i < cycle; i += 1) bits.se();
    }
    bits.ue(); // max_num_ref_frames
    bits.u(1);
    const widthInMbs = bits.ue() + 1;
    const heightInMapUnits = bits.ue() + 1;
    const frameMbsOnly = bits.u(1);
    if (!frameMbsOnly) bits.u(1);
    bits.u(1); // direct_8x8_inference
    const width = widthInMbs * 16;
    const height = heightInMapUnits * 16 * (2 - frameMbsOnly);
    if (!bits.u(1)) return { width, height };
    const chromaArray = separateColourPlanes ? 0 : chromaFormat;
    const cropX = chromaArray === 1 || chromaArray === 2 ? 2 : 1;
    const cropY = (chromaArray === 1 ? 2 : 1) * (2 - frameMbsOnly);
    const [left, right, top, bottom] = [bits.ue(), bits.ue(), bits.ue(), bits.ue()];
    return {
      width: Math.max(0, width - cropX * (left + right)),
      height: Math.max(0, height - cropY * (top + bottom)),
    };
  } catch {
    return null;
  }
}

function skipScalingList(bits: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j += 1) {
    if (next !== 0) next = (last + bits.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

function hevcSps(unit: Buffer): PictureSize | null {
  if ((((unit[0] ?? 0) >> 1) & 0x3f) !== 33) return null;
  try {
    const bits = new BitReader(unit.subarray(2));
    bits.u(4); // sps_video_parameter_set_id
    const subLayers = bits.u(3);
    bits.u(1);
    bits.u(88); // general profile space, tier, profile, compatibility and constraint flags
    bits.u(8); // general_level_idc
    const profilePresent: number[] = [];
    const levelPresent: number[] = [];
    for (let i = 0; i < subLayers; i += 1) {
      profilePresent.push(bits.u(1));
      levelPresent.push(bits.u(1));
    }
    if (subLayers > 0) for (let i = subLayers; i < 8; i += 1) bits.u(2);
    for (let i = 0; i < subLayers; i += 1) {
      if (profilePresent[i]) bits.u(88);
      if (levelPresent[i]) bits.u(8);
    }
    bits.ue(); // sps_seq_parameter_set_id
    if (bits.ue() === 3) bits.u(1);
    return { width: bits.ue(), height: bits.ue() };
  } catch {
    return null;
  }
}
