import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ModelCardError, type GoldenPair } from './model-card.js';

/**
 * The golden tensor for a seed: `count` float32 values in [0, 1), in the tensor's own memory order, from the
 * 32-bit linear congruential generator of Numerical Recipes:
 *   state₀ = seed; stateₙ₊₁ = (1664525 · stateₙ + 1013904223) mod 2³²; valueₙ = float32(stateₙ₊₁ / 2³²).
 * Chosen because any language reproduces it exactly with integer arithmetic (docs/models.md has numpy code).
 */
export function goldenTensor(seed: number, count: number): Float32Array {
  const values = new Float32Array(count);
  let state = seed >>> 0;
  for (let index = 0; index < count; index++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[index] = state / 4294967296;
  }
  return values;
}

/** The input of a golden pair: regenerated from its seed, or read as raw little-endian float32 next to the card. */
export async function goldenInput(cardPath: string, pair: GoldenPair, count: number): Promise<Float32Array> {
  if ('seed' in pair.input) return goldenTensor(pair.input.seed, count);
  const path = resolve(dirname(cardPath), pair.input.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ModelCardError(
      cardPath,
      `cannot read golden input ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (bytes.length !== count * 4) {
    throw new ModelCardError(
      cardPath,
      `golden input ${path} has ${bytes.length} bytes; the input tensor needs ${count} float32 values (${count * 4} bytes)`,
    );
  }
  const values = new Float32Array(count);
  for (let index = 0; index < count; index++) values[index] = bytes.readFloatLE(index * 4);
  return values;
}

/** How a golden pair is named in messages: "golden pair 2 (seed 7)". */
export function describeGoldenPair(pair: GoldenPair, index: number): string {
  const source = 'seed' in pair.input ? `seed ${pair.input.seed}` : `file ${pair.input.file}`;
  return `golden pair ${index + 1} (${source})`;
}
