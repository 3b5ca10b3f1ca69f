import type { JsonValue } from '@openfeature/server-sdk';
import type { FeatureFlagType, RolloutWeight } from '../db/schema.js';

export type { FeatureFlagType, RolloutWeight };

export const featureFlagTypes = [
  'boolean',
  'string',
  'number',
  'object',
] as const satisfies readonly FeatureFlagType[];

/** A flag as the provider and the admin API see it: its definition and every organisation override. */
export interface FeatureFlag {
  key: string;
  type: FeatureFlagType;
  description: string;
  /** False: every evaluation gets the caller's default value (reason DISABLED). */
  enabled: boolean;
  variants: Record<string, JsonValue>;
  defaultVariant: string;
  /** Weighted split across variants, bucketed by a hash of flag key and targeting key; null: none. */
  rollout: RolloutWeight[] | null;
  overrides: FlagOverride[];
  createdAt: Date;
  updatedAt: Date;
}

export interface FlagOverride {
  orgId: string;
  variant: string;
}

/** What defines a flag's behaviour, without its bookkeeping; what the admin API writes. */
export type FlagDefinition = Pick<
  FeatureFlag,
  'key' | 'type' | 'description' | 'enabled' | 'variants' | 'defaultVariant' | 'rollout'
>;

export const maxVariants = 20;
export const maxRolloutWeight = 10_000;

/** Whether a value is of the flag's type (object flags hold any JSON object or array). */
export function valueMatchesType(value: unknown, type: FeatureFlagType): boolean {
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'object':
      return typeof value === 'object' && value !== null;
  }
}

/** Problems with the variants and default (`invalid-flag`) and with the rollout (`invalid-flag-rollout`). */
export function definitionProblems(flag: FlagDefinition): { variants: string[]; rollout: string[] } {
  const variants: string[] = [];
  const names = Object.keys(flag.variants);
  if (names.length === 0) variants.push('a flag needs at least one variant');
  if (names.length > maxVariants) variants.push(`at most ${maxVariants} variants`);
  for (const name of names)
    if (!valueMatchesType(flag.variants[name], flag.type))
      variants.push(`variant "${name}" is not a ${flag.type} value`);
  if (!names.includes(flag.defaultVariant))
    variants.push(`the default variant "${flag.defaultVariant}" is not one of the variants`);
  const rollout: string[] = [];
  if (flag.rollout) {
    const seen = new Set<string>();
    for (const { variant, weight } of flag.rollout) {
      if (!names.includes(variant)) rollout.push(`rollout variant "${variant}" is not one of the variants`);
      if (seen.has(variant)) rollout.push(`rollout names variant "${variant}" twice`);
      seen.add(variant);
      if (!Number.isInteger(weight) || weight < 0 || weight > maxRolloutWeight)
        rollout.push(`rollout weight of "${variant}" must be an integer from 0 to ${maxRolloutWeight}`);
    }
    if (flag.rollout.reduce((sum, entry) => sum + entry.weight, 0) <= 0)
      rollout.push('rollout weights must add up to more than 0');
  }
  return { variants, rollout };
}

/** One line for the audit log: what the flag did before or after a change (values left out, only names). */
export function flagSummary(flag: FeatureFlag | null): string {
  if (!flag) return 'none';
  const rollout = flag.rollout
    ? flag.rollout.map((entry) => `${entry.variant}:${entry.weight}`).join(',')
    : 'none';
  return [
    `enabled=${flag.enabled}`,
    `type=${flag.type}`,
    `default=${flag.defaultVariant}`,
    `variants=${Object.keys(flag.variants).join(',')}`,
    `rollout=${rollout}`,
    `overrides=${flag.overrides.length}`,
  ].join(' ');
}

/** The JSON form of a flag, for the admin API and `guardian flags`. */
export function flagView(flag: FeatureFlag) {
  return {
    key: flag.key,
    type: flag.type,
    description: flag.description,
    enabled: flag.enabled,
    variants: flag.variants,
    defaultVariant: flag.defaultVariant,
    rollout: flag.rollout,
    overrides: flag.overrides,
    createdAt: flag.createdAt.toISOString(),
    updatedAt: flag.updatedAt.toISOString(),
  };
}

export type FlagView = ReturnType<typeof flagView>;
