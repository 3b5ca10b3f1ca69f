import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Executor } from '../db/executor.js';
import {
  definitionProblems,
  flagSummary,
  type FeatureFlag,
  type FlagDefinition,
} from '../flags/feature-flag.js';
import type { FlagSource } from '../flags/flag-source.js';
import type { FeatureFlagRepository, FlagChanges } from '../repositories/feature-flag.repository.js';
import type { OrganisationRepository } from '../repositories/organisation.repository.js';
import type { AuditActor } from './audit-log.js';
import type { AuditLogService } from './audit-log.service.js';
import { AppError, badRequest } from './errors.js';

/** Who changes a flag, and which organisation's audit log shows it (the CLI's global changes: none). */
export interface FlagChangeContext {
  actor: AuditActor;
  auditOrgId: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

export const flagNotFound = (key: string) =>
  new AppError(404, 'flag-not-found', 'Feature flag not found', `feature flag "${key}" not found`);
const flagExists = (key: string) =>
  new AppError(409, 'flag-exists', 'Feature flag exists', `a feature flag "${key}" already exists`);
const variantInUse = (detail: string) => new AppError(409, 'flag-variant-in-use', 'Variant in use', detail);
const organisationNotFound = (id: string) =>
  new AppError(404, 'organisation-not-found', 'Organisation not found', `organisation ${id} not found`);

export interface FeatureFlagServiceDeps {
  db: Kysely<Database>;
  flags: FeatureFlagRepository;
  organisations: Pick<OrganisationRepository, 'findById'>;
  audit: AuditLogService;
  /** This process's evaluation cache, refreshed at once after its own changes (others within their TTL). */
  source?: Pick<FlagSource, 'invalidate'>;
  now: () => Date;
}

export type FeatureFlagService = ReturnType<typeof createFeatureFlagService>;

/** Admin changes to flags: validated whole, written with their audit entry in one transaction. */
export function createFeatureFlagService(deps: FeatureFlagServiceDeps) {
  const { flags } = deps;

  async function change<T>(work: (trx: Executor) => Promise<T>): Promise<T> {
    const result = await deps.db.transaction().execute(work);
    deps.source?.invalidate();
    return result;
  }

  async function audit(
    trx: Executor,
    context: FlagChangeContext,
    action: string,
    key: string,
    before: FeatureFlag | null,
    after: FeatureFlag | null,
    extra: Record<string, string> = {},
  ) {
    await deps.audit.append(
      {
        orgId: context.auditOrgId,
        actor: context.actor,
        action,
        outcome: 'success',
        target: { type: 'feature-flag', id: key },
        ip: context.ip ?? null,
        userAgent: context.userAgent ?? null,
        details: { flag: key, ...extra, before: flagSummary(before), after: flagSummary(after) },
      },
      trx,
    );
  }

  return {
    list: () => flags.list(),

    async get(key: string): Promise<FeatureFlag> {
      const flag = await flags.find(key);
      if (!flag) throw flagNotFound(key);
      return flag;
    },

    async create(definition: FlagDefinition, context: FlagChangeContext): Promise<FeatureFlag> {
      checkDefinition(definition);
      return change(async (trx) => {
        const created = await flags.create(definition, deps.now(), trx);
        if (!created) throw flagExists(definition.key);
        await audit(trx, context, 'flag.created', created.key, null, created);
        return created;
      });
    },

    async update(key: string, changes: FlagChanges, context: FlagChangeContext): Promise<FeatureFlag> {
      return change(async (trx) => {
        const before = await flags.find(key, trx, { lock: true });
        if (!before) throw flagNotFound(key);
        const merged = { ...before, ...changes };
        checkDefinition(merged);
        const orphaned = before.overrides.filter((override) => !(override.variant in merged.variants));
        if (orphaned.length > 0)
          throw variantInUse(
            `organisation overrides use variant "${orphaned[0]!.variant}": change or clear them first`,
          );
        const after = await flags.update(key, changes, deps.now(), trx);
        if (!after) throw flagNotFound(key);
        await audit(trx, context, 'flag.updated', key, before, after);
        return after;
      });
    },

    async remove(key: string, context: FlagChangeContext): Promise<void> {
      await change(async (trx) => {
        const before = await flags.find(key, trx, { lock: true });
        if (!before || !(await flags.delete(key, trx))) throw flagNotFound(key);
        await audit(trx, context, 'flag.deleted', key, before, null);
      });
    },

    async setOverride(key: string, orgId: string, variant: string, context: FlagChangeContext) {
      if (!(await deps.organisations.findById(orgId))) throw organisationNotFound(orgId);
      return change(async (trx) => {
        const before = await flags.find(key, trx, { lock: true });
        if (!before) throw flagNotFound(key);
        if (!(variant in before.variants))
          throw badRequest('unknown-flag-variant', `"${variant}" is not a variant of feature flag "${key}"`);
        await flags.setOverride(key, orgId, variant, deps.now(), trx);
        const after = (await flags.find(key, trx))!;
        await audit(trx, context, 'flag.override.set', key, before, after, { targetOrgId: orgId, variant });
        return after;
      });
    },

    async clearOverride(key: string, orgId: string, context: FlagChangeContext) {
      return change(async (trx) => {
        const before = await flags.find(key, trx, { lock: true });
        if (!before) throw flagNotFound(key);
        if (!(await flags.clearOverride(key, orgId, trx)))
          throw new AppError(
            404,
            'flag-override-not-found',
            'Override not found',
            `no override for ${orgId}`,
          );
        const after = (await flags.find(key, trx))!;
        await audit(trx, context, 'flag.override.cleared', key, before, after, { targetOrgId: orgId });
        return after;
      });
    },
  };
}

function checkDefinition(definition: FlagDefinition): void {
  const problems = definitionProblems(definition);
  if (problems.variants.length > 0) throw badRequest('invalid-flag', problems.variants.join('; '));
  if (problems.rollout.length > 0) throw badRequest('invalid-flag-rollout', problems.rollout.join('; '));
}
