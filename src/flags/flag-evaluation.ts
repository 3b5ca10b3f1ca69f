import {
  ErrorCode,
  StandardResolutionReasons,
  type EvaluationContext,
  type JsonValue,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { valueMatchesType, type FeatureFlag, type FeatureFlagType } from './feature-flag.js';
import { rolloutVariant } from './flag-bucket.js';

/** The evaluation-context attribute naming the organisation an override applies to (else the targeting key). */
export const organisationAttribute = 'organisationId';

/**
 * One flag for one subject, in this order: unknown flag or wrong type (caller's default, ERROR), disabled
 * (caller's default, DISABLED), the organisation's override (TARGETING_MATCH), the rollout split by
 * targeting key (SPLIT), else the default variant: STATIC for a flag with no targeting at all, DEFAULT when
 * it has targeting that did not apply to this subject.
 */
export function evaluateFlag<T extends JsonValue>(
  flag: FeatureFlag | undefined,
  requested: FeatureFlagType,
  defaultValue: T,
  context: EvaluationContext,
): ResolutionDetails<T> {
  if (!flag) return failed(defaultValue, ErrorCode.FLAG_NOT_FOUND, 'no such flag');
  if (flag.type !== requested)
    return failed(defaultValue, ErrorCode.TYPE_MISMATCH, `the flag is a ${flag.type} flag, not ${requested}`);
  if (!flag.enabled) return { value: defaultValue, reason: StandardResolutionReasons.DISABLED };
  const organisation = stringAttribute(context[organisationAttribute]) ?? context.targetingKey;
  const override = organisation
    ? flag.overrides.find((candidate) => candidate.orgId === organisation)
    : undefined;
  if (override)
    return resolved(flag, override.variant, StandardResolutionReasons.TARGETING_MATCH, defaultValue);
  if (flag.rollout && context.targetingKey) {
    const variant = rolloutVariant(flag.key, context.targetingKey, flag.rollout);
    if (variant !== null) return resolved(flag, variant, StandardResolutionReasons.SPLIT, defaultValue);
  }
  const targeted = flag.rollout !== null || flag.overrides.length > 0;
  return resolved(
    flag,
    flag.defaultVariant,
    targeted ? StandardResolutionReasons.DEFAULT : StandardResolutionReasons.STATIC,
    defaultValue,
  );
}

function resolved<T extends JsonValue>(
  flag: FeatureFlag,
  variant: string,
  reason: string,
  defaultValue: T,
): ResolutionDetails<T> {
  const value = flag.variants[variant];
  // Stored definitions are validated on write; a row edited by hand must still not hand out a wrong type.
  if (value === undefined || !valueMatchesType(value, flag.type))
    return failed(
      defaultValue,
      ErrorCode.PARSE_ERROR,
      `variant "${variant}" is missing or of the wrong type`,
    );
  return { value: value as T, variant, reason };
}

function failed<T>(defaultValue: T, errorCode: ErrorCode, errorMessage: string): ResolutionDetails<T> {
  return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode, errorMessage };
}

function stringAttribute(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
