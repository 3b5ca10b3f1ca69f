import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describeGoldenPair, goldenInput } from './golden-input.js';
import { inputShape, ModelCardError, readModelCard, type ModelCard } from './model-card.js';
import { calibrate, manipulatedScore } from './model-score.js';

/** Largest absolute difference allowed between a golden output and what the model computes. */
export const goldenTolerance = 1e-3;

export interface ModelScore {
  /** The model's raw output (batch of one, flattened). */
  output: number[];
  /** From the output alone (sigmoid, softmax share or probability). */
  uncalibrated: number;
  /** After the card's calibration; equal to `uncalibrated` without one. */
  score: number;
}

/** A model whose file matched its card's hash and whose golden pairs were reproduced at load. */
export interface OnnxModel {
  readonly card: ModelCard;
  readonly cardPath: string;
  /** Of the model file, as verified. */
  readonly sha256: string;
  /** Runs one input tensor (the card's shape, batch of one). */
  infer(tensor: Float32Array): Promise<Float32Array>;
  score(tensor: Float32Array): Promise<ModelScore>;
  release(): Promise<void>;
}

export interface LoadOnnxModelOptions {
  /** Threads one inference may use; default 1, so analyses running side by side do not oversubscribe the CPU. */
  intraOpThreads?: number;
}

/**
 * Loads a model card and its model, refusing (ModelCardError) unless the file's sha256 is the card's, the
 * declared input and output exist, and every golden pair is reproduced within `goldenTolerance`.
 */
export async function loadOnnxModel(
  cardPath: string,
  options: LoadOnnxModelOptions = {},
): Promise<OnnxModel> {
  const card = await readModelCard(cardPath);
  const refuse = (reason: string) => new ModelCardError(cardPath, reason);
  const modelPath = resolve(dirname(cardPath), card.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(modelPath);
  } catch (error) {
    throw refuse(`cannot read model file ${modelPath} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  // The session is built from the very bytes that were hashed, so the file cannot change in between.
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== card.sha256) {
    throw refuse(`model file ${modelPath} has sha256 ${sha256}, the card expects ${card.sha256}`);
  }
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      logSeverityLevel: 3,
    });
  } catch (error) {
    throw refuse(`ONNX Runtime cannot load ${modelPath}: ${(error as Error).message}`);
  }
  const model = createModel(card, cardPath, sha256, session);
  try {
    checkSignature(card, session, refuse);
    await checkGoldenPairs(model, refuse);
  } catch (error) {
    await session.release();
    throw error;
  }
  return model;
}

function createModel(
  card: ModelCard,
  cardPath: string,
  sha256: string,
  session: InferenceSession,
): OnnxModel {
  const shape = inputShape(card.input);
  const infer = async (tensor: Float32Array) => {
    const results = await session.run({ [card.input.name]: new Tensor('float32', tensor, shape) }, [
      card.output.name,
    ]);
    const output = results[card.output.name];
    if (!(output instanceof Tensor) || output.type !== 'float32') {
      throw new Error(`output ${card.output.name} is not a float32 tensor`);
    }
    return output.data as Float32Array;
  };
  return {
    card,
    cardPath,
    sha256,
    infer,
    async score(tensor) {
      const output = await infer(tensor);
      const uncalibrated = manipulatedScore(output, card.output);
      return { output: Array.from(output), uncalibrated, score: calibrate(uncalibrated, card.calibration) };
    },
    release: () => session.release(),
  };
}

function checkSignature(card: ModelCard, session: InferenceSession, refuse: (reason: string) => Error): void {
  const { input, output } = card;
  if (!session.inputNames.includes(input.name)) {
    throw refuse(`input "${input.name}" is not in the model (its inputs: ${session.inputNames.join(', ')})`);
  }
  if (session.inputNames.length !== 1) {
    throw refuse(
      `the model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); only one is fed`,
    );
  }
  if (!session.outputNames.includes(output.name)) {
    throw refuse(
      `output "${output.name}" is not in the model (its outputs: ${session.outputNames.join(', ')})`,
    );
  }
  const metadata = session.inputMetadata.find((entry) => entry.name === input.name);
  if (metadata?.isTensor) {
    if (metadata.type !== 'float32') throw refuse(`input "${input.name}" is ${metadata.type}, not float32`);
    const expected = inputShape(input);
    // Symbolic dimensions ("batch") take any size; fixed ones must be the card's.
    const fits =
      metadata.shape.length === expected.length &&
      metadata.shape.every((dim, index) => typeof dim !== 'number' || dim < 0 || dim === expected[index]);
    if (!fits) {
      throw refuse(
        `input "${input.name}" has shape [${metadata.shape.join(', ')}]; the card describes [${expected.join(', ')}] (${input.layout})`,
      );
    }
  }
}

async function checkGoldenPairs(model: OnnxModel, refuse: (reason: string) => Error): Promise<void> {
  const count = inputShape(model.card.input).reduce((product, dim) => product * dim, 1);
  for (const [index, pair] of model.card.golden.entries()) {
    const name = describeGoldenPair(pair, index);
    const tensor = await goldenInput(model.cardPath, pair, count);
    let output: Float32Array;
    try {
      output = await model.infer(tensor);
    } catch (error) {
      throw refuse(`${name}: the model failed to run (${(error as Error).message})`);
    }
    if (output.length !== pair.output.length) {
      throw refuse(
        `${name}: the model gives ${output.length} output values, the card lists ${pair.output.length}`,
      );
    }
    let maxDifference = 0;
    for (const [position, expected] of pair.output.entries()) {
      const difference = Math.abs((output[position] as number) - expected);
      // NaN never passes.
      maxDifference = difference > maxDifference || Number.isNaN(difference) ? difference : maxDifference;
    }
    if (!(maxDifference <= goldenTolerance)) {
      throw refuse(
        `${name}: the model's output differs from the card's by up to ${maxDifference.toPrecision(3)} (tolerance ${goldenTolerance}); model gave [${formatValues(output)}], card says [${formatValues(pair.output)}]`,
      );
    }
  }
}

function formatValues(values: ArrayLike<number>): string {
  const shown = Array.from(values)
    .slice(0, 8)
    .map((value) => Number(value.toPrecision(6)));
  return values.length > 8 ? `${shown.join(', ')}, … (${values.length} values)` : shown.join(', ');
}
