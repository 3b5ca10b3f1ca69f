import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goldenTensor } from '../../src/models/golden-input.js';
import { ModelCardError } from '../../src/models/model-card.js';
import { loadOnnxModel, type OnnxModel } from '../../src/models/onnx-model.js';
import { writeModelFixture } from '../helpers/model-card-fixture.js';
import { channelMeanReference } from '../helpers/tiny-onnx.js';

let dir: string;
const loaded: OnnxModel[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'guardian-onnx-model-'));
});
afterAll(async () => {
  await Promise.all(loaded.map((model) => model.release()));
  await rm(dir, { recursive: true, force: true });
});

async function load(cardPath: string): Promise<OnnxModel> {
  const model = await loadOnnxModel(cardPath);
  loaded.push(model);
  return model;
}

async function refusal(cardPath: string): Promise<ModelCardError> {
  const error = await loadOnnxModel(cardPath).then(
    (model) => (loaded.push(model), null),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ModelCardError);
  return error as ModelCardError;
}

describe('loading a model card', () => {
  it('loads a card whose hash and golden pairs match, and runs the model to the closed-form answer', async () => {
    const fixture = await writeModelFixture(dir, 'redness');
    const model = await load(fixture.cardPath);
    expect(model.sha256).toBe(fixture.sha256);
    // An input whose red channel averages 0.75: logit 8 · 0.75 − 4 = 2.
    const tensor = new Float32Array(192).fill(0);
    tensor.fill(0.75, 0, 64);
    const result = await model.score(tensor);
    expect(result.output[0]).toBeCloseTo(2, 5);
    expect(result.uncalibrated).toBeCloseTo(0.880797, 5);
    expect(result.score).toBe(result.uncalibrated);
    // Same input, same bits.
    expect(await model.score(tensor)).toEqual(result);
  });

  it('refuses a model file with one byte changed, naming both hashes', async () => {
    const fixture = await writeModelFixture(dir, 'tampered');
    const bytes = await readFile(fixture.modelPath);
    // The lowest byte of the weight 8.0 (float32 LE 00 00 00 41): the file still parses, only the hash tells.
    const weight = bytes.indexOf(Buffer.from([0, 0, 0, 0x41]));
    expect(weight).toBeGreaterThan(0);
    bytes[weight] = 0x01;
    await writeFile(fixture.modelPath, bytes);
    const error = await refusal(fixture.cardPath);
    expect(error.cardPath).toBe(fixture.cardPath);
    expect(error.message).toMatch(
      new RegExp(`model file .*tampered\\.onnx has sha256 [0-9a-f]{64}, the card expects ${fixture.sha256}`),
    );
    expect(error.message).not.toContain(`sha256 ${fixture.sha256},`);
  });

  it('refuses a card whose golden output is off by more than 1e-3, naming the pair and the difference', async () => {
    const fixture = await writeModelFixture(dir, 'wrong-golden', {
      edit: (card) => {
        const pair = (card.golden as { output: number[] }[])[1] as { output: number[] };
        pair.output = [(pair.output[0] as number) + 0.01];
      },
    });
    const error = await refusal(fixture.cardPath);
    expect(error.reason).toMatch(
      /^golden pair 2 \(seed 2\): the model's output differs from the card's by up to 0\.0100\d* \(tolerance 0\.001\)/,
    );
  });

  it('accepts golden outputs within 1e-3 (float32 rounding of another runtime)', async () => {
    const fixture = await writeModelFixture(dir, 'near-golden', {
      edit: (card) => {
        for (const pair of card.golden as { output: number[] }[])
          pair.output = pair.output.map((v) => v + 0.0008);
      },
    });
    await expect(load(fixture.cardPath)).resolves.toBeDefined();
  });

  it('refuses golden outputs of the wrong length', async () => {
    const fixture = await writeModelFixture(dir, 'long-golden', {
      edit: (card) => ((card.golden as { output: number[] }[])[0]!.output = [0, 0]),
    });
    expect((await refusal(fixture.cardPath)).reason).toBe(
      'golden pair 1 (seed 1): the model gives 1 output values, the card lists 2',
    );
  });

  it('checks a golden pair given as a raw float32 file', async () => {
    const tensor = goldenTensor(99, 192).map((value) => value * 2 - 1);
    await writeFile(join(dir, 'pair.f32'), Buffer.from(tensor.buffer));
    const expected = channelMeanReference({ weights: [[8, 0, 0]], bias: [-4] }, tensor);
    const good = await writeModelFixture(dir, 'file-golden', {
      edit: (card) => ((card.golden as unknown[])[1] = { input: { file: 'pair.f32' }, output: expected }),
    });
    await expect(load(good.cardPath)).resolves.toBeDefined();
    const bad = await writeModelFixture(dir, 'file-golden-bad', {
      edit: (card) =>
        ((card.golden as unknown[])[1] = {
          input: { file: 'pair.f32' },
          output: [(expected[0] as number) - 1],
        }),
    });
    expect((await refusal(bad.cardPath)).reason).toMatch(
      /^golden pair 2 \(file pair\.f32\): .*by up to 1\.00/,
    );
  });

  it('refuses a card whose input or output is not the model’s', async () => {
    const input = await writeModelFixture(dir, 'wrong-input', {
      edit: (card) => ((card.input as Record<string, unknown>).name = 'pixels'),
    });
    expect((await refusal(input.cardPath)).reason).toBe(
      'input "pixels" is not in the model (its inputs: image)',
    );
    const output = await writeModelFixture(dir, 'wrong-output', {
      edit: (card) => ((card.output as Record<string, unknown>).name = 'score'),
    });
    expect((await refusal(output.cardPath)).reason).toBe(
      'output "score" is not in the model (its outputs: logits)',
    );
    const size = await writeModelFixture(dir, 'wrong-size', {
      edit: (card) => Object.assign(card.input as object, { width: 16, height: 16 }),
    });
    expect((await refusal(size.cardPath)).reason).toBe(
      'input "image" has shape [1, 3, 8, 8]; the card describes [1, 3, 16, 16] (NCHW)',
    );
  });

  it('refuses a missing model file and bytes that are not a model', async () => {
    const missing = await writeModelFixture(dir, 'missing', { edit: (card) => (card.file = 'nowhere.onnx') });
    expect((await refusal(missing.cardPath)).reason).toMatch(
      /^cannot read model file .*nowhere\.onnx \(ENOENT\)$/,
    );
    const garbage = await writeModelFixture(dir, 'garbage');
    await writeFile(garbage.modelPath, 'not a model');
    const { createHash } = await import('node:crypto');
    const card = JSON.parse(await readFile(garbage.cardPath, 'utf8')) as Record<string, unknown>;
    card.sha256 = createHash('sha256').update('not a model').digest('hex');
    await writeFile(garbage.cardPath, JSON.stringify(card));
    expect((await refusal(garbage.cardPath)).reason).toMatch(/^ONNX Runtime cannot load .*garbage\.onnx: /);
  });
});
