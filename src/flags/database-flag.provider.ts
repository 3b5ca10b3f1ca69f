import {
  ErrorCode,
  StandardResolutionReasons,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import type { FeatureFlagType } from './feature-flag.js';
import { evaluateFlag } from './flag-evaluation.js';
import type { FlagSource } from './flag-source.js';

/** The OpenFeature provider over the flag tables (through a cached snapshot, see flag-source.ts). */
export class DatabaseFlagProvider implements Provider {
  readonly metadata = { name: 'guardian-database' } as const;
  readonly runsOn = 'server' as const;
  readonly #source: FlagSource;

  constructor(source: FlagSource) {
    this.#source = source;
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext) {
    return this.#resolve(flagKey, 'boolean', defaultValue, context);
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext) {
    return this.#resolve(flagKey, 'string', defaultValue, context);
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext) {
    return this.#resolve(flagKey, 'number', defaultValue, context);
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext) {
    return this.#resolve(flagKey, 'object', defaultValue, context);
  }

  async #resolve<T extends JsonValue>(
    flagKey: string,
    type: FeatureFlagType,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    try {
      const flags = await this.#source.flags();
      return evaluateFlag(flags.get(flagKey), type, defaultValue, context);
    } catch (error) {
      // The database unreachable with no snapshot yet: the caller's default, saying why.
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.ERROR,
        errorCode: ErrorCode.GENERAL,
        errorMessage: `flags could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
}
