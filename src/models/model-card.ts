import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/** A model the platform refuses to run, with the card it came from and the reason in plain words. */
export class ModelCardError extends Error {
  constructor(
    readonly cardPath: string,
    readonly reason: string,
  ) {
    super(`model card ${cardPath}: ${reason}`);
    this.name = 'ModelCardError';
  }
}

/** Golden inputs are regenerated, not shipped: see `goldenTensor` (seed) or a raw float32 file. */
export const maxGoldenSeed = 2 ** 32 - 1;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const triple = z.tuple([finite, finite, finite]);
const relativeFile = z
  .string()
  .min(1)
  .refine((path) => !path.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(path), 'must be relative to the card');

const isotonicPoints = z
  .array(z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]))
  .min(2)
  .refine(
    (points) => points.every(([x, y], i) => i === 0 || (x > points[i - 1]![0] && y >= points[i - 1]![1])),
    'x must increase strictly and y must not decrease',
  );

export const modelCardSchema = z.strictObject({
  /** Becomes the detector id `model:<name>`. */
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and hyphens (up to 63)'),
  version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/, 'must be a short version string'),
  description: z.string().max(300).optional(),
  file: relativeFile,
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters')
    .transform((hash) => hash.toLowerCase()),
  input: z.strictObject({
    name: z.string().min(1),
    layout: z.enum(['NCHW', 'NHWC']),
    width: z.number().int().min(1).max(4096),
    height: z.number().int().min(1).max(4096),
    colorOrder: z.enum(['RGB', 'BGR']),
    /** Pixel byte × scale, then (− mean) / std per channel, in the model's channel order. */
    scale: finite.refine((scale) => scale > 0, 'must be positive'),
    mean: triple,
    std: z
      .tuple([finite, finite, finite])
      .refine((std) => std.every((value) => value > 0), 'must be positive'),
  }),
  crop: z.discriminatedUnion('rule', [
    z.strictObject({
      rule: z.literal('face'),
      /** Added on every side, as a fraction of the face box's width (left, right) and height (top, bottom). */
      margin: z.number().min(0).max(2),
    }),
    z.strictObject({ rule: z.literal('full-frame') }),
  ]),
  output: z.strictObject({
    name: z.string().min(1),
    kind: z.enum(['logit', 'softmax', 'probability']),
    manipulatedIndex: z.number().int().min(0).max(9999),
  }),
  aggregation: z.enum(['mean', 'median', 'max', 'trimmed-mean']),
  calibration: z
    .discriminatedUnion('method', [
      z.strictObject({ method: z.literal('platt'), a: finite, b: finite }),
      z.strictObject({ method: z.literal('isotonic'), points: isotonicPoints }),
    ])
    .optional(),
  golden: z
    .array(
      z.strictObject({
        input: z.union([
          z.strictObject({ seed: z.number().int().min(0).max(maxGoldenSeed) }),
          z.strictObject({ file: relativeFile }),
        ]),
        output: z.array(finite).min(1),
      }),
    )
    .min(2)
    .max(3),
});

export type ModelCard = z.infer<typeof modelCardSchema>;
export type ModelInputSpec = ModelCard['input'];
export type ModelOutputSpec = ModelCard['output'];
export type Calibration = NonNullable<ModelCard['calibration']>;
export type Aggregation = ModelCard['aggregation'];
export type GoldenPair = ModelCard['golden'][number];

/** Reads and validates a card; every schema problem names its field. */
export async function readModelCard(cardPath: string): Promise<ModelCard> {
  let text: string;
  try {
    text = await readFile(cardPath, 'utf8');
  } catch (error) {
    throw new ModelCardError(
      cardPath,
      `cannot read the card (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelCardError(cardPath, `the card is not JSON (${(error as Error).message})`);
  }
  const parsed = modelCardSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join('.') : '(card)';
      return `${field}: ${issue.message}`;
    });
    throw new ModelCardError(cardPath, `the card does not follow the schema: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** The input tensor's shape, batch of one. */
export function inputShape(input: ModelInputSpec): [number, number, number, number] {
  return input.layout === 'NCHW' ? [1, 3, input.height, input.width] : [1, input.height, input.width, 3];
}
