import { describe, expect, it } from 'vitest';
import { decodeNetpbm } from '../../web/src/pages/report/netpbm-image.js';

const bytes = (header: string, samples: number[]) =>
  new Uint8Array([...Buffer.from(header, 'latin1'), ...samples]);

describe('evidence images kept as PGM/PPM', () => {
  it('decodes a greyscale P5 into opaque RGBA, as the detectors write it', () => {
    const image = decodeNetpbm(bytes('P5\n2 1\n255\n', [0, 200]));
    expect(image).toMatchObject({ width: 2, height: 1 });
    expect([...image.rgba]).toEqual([0, 0, 0, 255, 200, 200, 200, 255]);
  });

  it('decodes a colour P6 with a comment and scales a smaller sample range to 0–255', () => {
    const image = decodeNetpbm(bytes('P6 # made by a test\n1 1 15\n', [15, 0, 5]));
    expect([...image.rgba]).toEqual([255, 0, 85, 255]);
  });

  it('reads 16-bit samples big-endian', () => {
    const image = decodeNetpbm(bytes('P5\n1 1\n65535\n', [0x80, 0x00]));
    expect(image.rgba[0]).toBe(128);
  });

  it('refuses other formats, short data and absurd sizes', () => {
    expect(() => decodeNetpbm(bytes('P2\n1 1\n255\n', [0]))).toThrow(/not a binary/);
    expect(() => decodeNetpbm(bytes('P5\n2 2\n255\n', [1, 2, 3]))).toThrow(/shorter/);
    expect(() => decodeNetpbm(bytes('P5\n100000 100000\n255\n', []))).toThrow(/size/);
    expect(() => decodeNetpbm(bytes('P5\nx 1\n255\n', []))).toThrow(/malformed/);
    expect(() => decodeNetpbm(bytes('P5\n1 1\n0\n', [0]))).toThrow(/range/);
  });
});
