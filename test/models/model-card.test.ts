import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goldenInput, goldenTensor } from '../../src/models/golden-input.js';
import { ModelCardError, readModelCard } from '../../src/models/model-card.js';
import { writeModelFixture } from '../helpers/model-card-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'guardian-model-card-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The refusal of a card edited by `edit`, as its message. */
async function refusal(name: string, edit: (card: Record<string, unknown>) => void): Promise<string> {
  const { cardPath } = await writeModelFixture(dir, name, { edit });
  const error = await readModelCard(cardPath).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ModelCardError);
  return (error as ModelCardError).message;
}

describe('model card schema', () => {
  it('accepts the fixture card and lower-cases its hash', async () => {
    const { cardPath, sha256 } = await writeModelFixture(dir, 'valid', {
      edit: (card) => (card.sha256 = String(card.sha256).toUpperCase()),
    });
    const card = await readModelCard(cardPath);
    expect(card.sha256).toBe(sha256);
    expect(card.crop).toEqual({ rule: 'full-frame' });
  });

  it('names the field that is wrong', async () => {
    expect(
      await refusal('bad-layout', (card) => ((card.input as Record<string, unknown>).layout = 'CHW')),
    ).toMatch(/schema: input\.layout: /);
    expect(await refusal('no-hash', (card) => delete card.sha256)).toMatch(/sha256: /);
    expect(await refusal('short-hash', (card) => (card.sha256 = 'abc'))).toMatch(
      /sha256: must be 64 hex characters/,
    );
    expect(
      await refusal('typo', (card) => ((card.input as Record<string, unknown>).mena = [0, 0, 0])),
    ).toMatch(/input: .*mena/);
    expect(
      await refusal('one-pair', (card) => (card.golden = (card.golden as unknown[]).slice(0, 1))),
    ).toMatch(/golden: /);
    expect(
      await refusal('zero-std', (card) => ((card.input as Record<string, unknown>).std = [1, 0, 1])),
    ).toMatch(/input\.std: must be positive/);
    expect(await refusal('face-no-margin', (card) => (card.crop = { rule: 'face' }))).toMatch(
      /crop\.margin: /,
    );
    expect(
      await refusal(
        'isotonic-down',
        (card) =>
          (card.calibration = {
            method: 'isotonic',
            points: [
              [0, 0.5],
              [1, 0.2],
            ],
          }),
      ),
    ).toMatch(/calibration\.points: x must increase strictly and y must not decrease/);
    expect(await refusal('absolute-file', (card) => (card.file = '/etc/model.onnx'))).toMatch(
      /file: must be relative to the card/,
    );
    expect(await refusal('Upper', () => undefined)).toMatch(/name: must be lowercase/);
  });

  it('refuses a file that is not JSON, or missing, with the card named', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{"name": ');
    await expect(readModelCard(path)).rejects.toThrow(`model card ${path}: the card is not JSON`);
    await expect(readModelCard(join(dir, 'missing.json'))).rejects.toThrow(/cannot read the card \(ENOENT\)/);
  });
});

describe('golden inputs', () => {
  it('regenerates the documented LCG sequence (bytes pinned from the numpy code in docs/models.md)', () => {
    const values = goldenTensor(7, 4);
    expect(Buffer.from(values.buffer).toString('hex')).toBe('f782743eb2da693f41cc1c3fa84e6d3f');
    expect(goldenTensor(0, 1)[0]).toBeCloseTo(1013904223 / 2 ** 32, 7);
    expect(goldenTensor(7, 1000)).toEqual(goldenTensor(7, 1000));
    expect(goldenTensor(8, 4)).not.toEqual(values);
  });

  it('reads a raw float32 file of exactly the tensor size', async () => {
    const card = join(dir, 'file-input.card.json');
    const raw = Buffer.alloc(12);
    [0.25, -1, 3.5].forEach((value, index) => raw.writeFloatLE(value, index * 4));
    await writeFile(join(dir, 'three.f32'), raw);
    const pair = { input: { file: 'three.f32' }, output: [0] };
    expect(Array.from(await goldenInput(card, pair, 3))).toEqual([0.25, -1, 3.5]);
    await expect(goldenInput(card, pair, 4)).rejects.toThrow(
      /has 12 bytes; the input tensor needs 4 float32 values/,
    );
  });
});
