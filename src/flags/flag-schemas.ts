import type { JsonValue } from '@openfeature/server-sdk';
import { z } from 'zod';
import { featureFlagTypes, maxRolloutWeight, maxVariants } from './feature-flag.js';

/** Lower-case words joined by `.`, `_` or `-`, e.g. `detector.c2pa-provenance` (the table checks the same). */
export const flagKeySchema = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9]*([._-][a-z0-9]+)*$/, 'lower-case words joined by ".", "_" or "-"')
  .describe('flag key, e.g. `detector.c2pa-provenance`');

export const variantNameSchema = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." or "-"');

export const flagTypeSchema = z.enum(featureFlagTypes);

// Values are checked against the flag's type by the service (`invalid-flag`); here only their size.
/** `guardian flags set --variants '{"on": true, "off": false}'`: the CLI's map form. */
export const variantsSchema = z
  // z.unknown(), not z.json(): its recursive schema breaks the OpenAPI type generators. A body is JSON anyway.
  .record(variantNameSchema, z.unknown().describe('a value of the flag type (any JSON for object flags)'))
  .refine((variants) => Object.keys(variants).length <= maxVariants, `at most ${maxVariants} variants`)
  .refine((variants) => JSON.stringify(variants).length <= 16_384, 'variants take at most 16 KiB of JSON')
  .transform((variants) => variants as Record<string, JsonValue>)
  .describe('variant name -> value of the flag type');

/**
 * The API's form of the variants: a list of strict objects (every object in a request body refuses unknown
 * properties), each a name and a value; names are unique.
 */
export const variantListSchema = z
  .array(
    z.strictObject({
      name: variantNameSchema,
      value: z.unknown().describe('a value of the flag type (any JSON for object flags)'),
    }),
  )
  .min(1)
  .max(maxVariants)
  .refine((list) => new Set(list.map((entry) => entry.name)).size === list.length, 'variant names repeat')
  .refine((list) => JSON.stringify(list).length <= 16_384, 'variants take at most 16 KiB of JSON')
  .describe('the variants: each a name and a value of the flag type');

/** The API's variant list as the model's name -> value map. */
export function variantMap(list: { name: string; value: unknown }[]): Record<string, JsonValue> {
  return Object.fromEntries(list.map((entry) => [entry.name, entry.value as JsonValue]));
}

export const rolloutSchema = z
  .array(
    z.strictObject({
      variant: variantNameSchema,
      weight: z.number().int().min(0).max(maxRolloutWeight),
    }),
  )
  .min(1)
  .max(maxVariants)
  .describe(
    'percentage rollout: each subject (organisation or user id) gets a variant with probability weight / sum of weights, the same one every time',
  );

export const flagCreateSchema = z.strictObject({
  key: flagKeySchema,
  type: flagTypeSchema,
  description: z.string().max(500).default(''),
  enabled: z.boolean().default(true),
  variants: variantListSchema,
  defaultVariant: variantNameSchema,
  rollout: rolloutSchema.nullable().default(null),
});

export const flagPatchSchema = z.strictObject({
  description: z.string().max(500).optional(),
  enabled: z.boolean().optional(),
  variants: variantListSchema.optional(),
  defaultVariant: variantNameSchema.optional(),
  rollout: rolloutSchema.nullable().optional().describe('null removes the rollout'),
});
