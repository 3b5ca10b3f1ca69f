import type { RgbImage } from './rgb-image.js';
import type { SeededRandom } from './seeded-random.js';

export const noiseLevels = ['low', 'medium', 'high'] as const;
export type NoiseLevel = (typeof noiseLevels)[number];

/** Shot noise grows with brightness (variance shot × value), read noise does not; σ ≈ 2, 3 and 5 at mid-grey. */
const noiseModels: Record<NoiseLevel, { shot: number; read: number; chroma: number }> = {
  low: { shot: 0.025, read: 1.0, chroma: 0.5 },
  medium: { shot: 0.06, read: 1.5, chroma: 0.5 },
  high: { shot: 0.16, read: 2.5, chroma: 0.6 },
};

const tableBits = 18;

/** Adds fresh sensor-like noise (luma plus weaker chroma, brightness-dependent) to a frame in place. */
export function createSensorNoise(level: NoiseLevel, random: SeededRandom) {
  const model = noiseModels[level];
  // Normal deviates drawn once and read at random positions: far cheaper than Box–Muller per pixel.
  const table = new Float32Array(1 << tableBits);
  for (let i = 0; i < table.length; i++) table[i] = random.gaussian();
  const mask = table.length - 1;
  return {
    level,
    apply(image: RgbImage, frameIndex: number): void {
      let state = (Math.floor(random.fork(`noise-${frameIndex}`).next() * 0xffffffff) | 1) >>> 0;
      const draw = () => {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        return table[(state >>> 0) & mask]!;
      };
      const { data } = image;
      for (let at = 0; at < data.length; at += 3) {
        const luma = 0.299 * data[at]! + 0.587 * data[at + 1]! + 0.114 * data[at + 2]!;
        const sigma = Math.sqrt(model.shot * luma + model.read * model.read);
        const common = draw() * sigma;
        const chroma = sigma * model.chroma;
        data[at] = data[at]! + common + draw() * chroma;
        data[at + 1] = data[at + 1]! + common + draw() * chroma;
        data[at + 2] = data[at + 2]! + common + draw() * chroma;
      }
    },
  };
}

export type SensorNoise = ReturnType<typeof createSensorNoise>;
