import { z } from 'zod';
import { flagView } from '../flags/feature-flag.js';
import {
  flagKeySchema,
  flagTypeSchema,
  rolloutSchema,
  variantNameSchema,
  variantsSchema,
} from '../flags/flag-schemas.js';
import type { FeatureFlagService, FlagChangeContext } from '../services/feature-flag.service.js';
import type { OrganisationService } from '../services/organisation.service.js';
import { badRequest, notFound } from '../services/errors.js';

const keyArgs = z.strictObject({ key: flagKeySchema });
const setArgs = z.strictObject({
  key: flagKeySchema,
  type: flagTypeSchema.optional(),
  variants: variantsSchema.optional(),
  defaultVariant: variantNameSchema.optional(),
  description: z.string().max(500).optional(),
});
const enableArgs = z.strictObject({ key: flagKeySchema, enabled: z.boolean() });
const rolloutArgs = z.strictObject({ key: flagKeySchema, rollout: rolloutSchema.nullable() });
const overrideArgs = z.strictObject({
  key: flagKeySchema,
  orgName: z.string(),
  variant: variantNameSchema.nullable(),
});

// A boolean flag created without variants: the usual on/off pair, off unless told otherwise.
const booleanVariants = { on: true, off: false };
// The operator on the host: global changes belong to no organisation's audit log.
const cliChange: FlagChangeContext = { actor: { type: 'cli', id: null }, auditOrgId: null };

/** `guardian flags ...`: the same service as the admin API, audited with the CLI as actor. */
export function flagCommands(deps: {
  flags: FeatureFlagService;
  organisations: Pick<OrganisationService, 'list'>;
  parse<T>(schema: z.ZodType<T>, args: unknown): T;
}) {
  const { flags, parse } = deps;
  return {
    'flags.list': async () => (await flags.list()).map(flagView),
    'flags.get': async (args: unknown) => flagView(await flags.get(parse(keyArgs, args).key)),
    /** Creates the flag, or changes the variants, default and description of an existing one. */
    'flags.set': async (args: unknown) => {
      const { key, type, variants, defaultVariant, description } = parse(setArgs, args);
      const existing = (await flags.list()).find((flag) => flag.key === key);
      if (existing) {
        if (type && type !== existing.type)
          throw badRequest(
            'flag-type-immutable',
            `"${key}" is a ${existing.type} flag; delete it to change its type`,
          );
        const changes = {
          ...(variants ? { variants } : {}),
          ...(defaultVariant ? { defaultVariant } : {}),
          ...(description !== undefined ? { description } : {}),
        };
        return flagView(await flags.update(key, changes, cliChange));
      }
      const flagType = type ?? 'boolean';
      if (!variants && flagType !== 'boolean')
        throw badRequest('invalid-flag', `a ${flagType} flag needs --variants`);
      return flagView(
        await flags.create(
          {
            key,
            type: flagType,
            description: description ?? '',
            enabled: true,
            variants: variants ?? booleanVariants,
            defaultVariant: defaultVariant ?? (variants ? Object.keys(variants)[0]! : 'off'),
            rollout: null,
          },
          cliChange,
        ),
      );
    },
    'flags.enable': async (args: unknown) => {
      const { key, enabled } = parse(enableArgs, args);
      return flagView(await flags.update(key, { enabled }, cliChange));
    },
    'flags.rollout': async (args: unknown) => {
      const { key, rollout } = parse(rolloutArgs, args);
      return flagView(await flags.update(key, { rollout }, cliChange));
    },
    'flags.override': async (args: unknown) => {
      const { key, orgName, variant } = parse(overrideArgs, args);
      const org = (await deps.organisations.list()).find((candidate) => candidate.name === orgName);
      if (!org) throw notFound(`organisation "${orgName}"`);
      // An override concerns one organisation: its audit log shows it.
      const context: FlagChangeContext = { ...cliChange, auditOrgId: org.id };
      const flag =
        variant === null
          ? await flags.clearOverride(key, org.id, context)
          : await flags.setOverride(key, org.id, variant, context);
      return flagView(flag);
    },
    'flags.delete': async (args: unknown) => {
      const { key } = parse(keyArgs, args);
      await flags.remove(key, cliChange);
      return { deleted: key };
    },
  };
}
