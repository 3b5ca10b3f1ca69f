import type { FlagView } from '../../flags/feature-flag.js';
import type { CliCommand } from '../cli-command.js';
import { runManagement } from './manage.command.js';

const usage = `usage: guardian flags list [--json]
       guardian flags get KEY [--json]
       guardian flags set KEY [--type boolean|string|number|object] [--variants JSON] [--default VARIANT] [--description TEXT]
       guardian flags enable KEY | guardian flags disable KEY
       guardian flags rollout KEY VARIANT=WEIGHT[,VARIANT=WEIGHT...] | guardian flags rollout KEY --clear
       guardian flags override KEY --org NAME (--variant VARIANT | --clear)
       guardian flags delete KEY`;

/** `on=10,off=90` -> rollout weights; null when it is not of that form. */
export function parseRollout(text: string): { variant: string; weight: number }[] | null {
  const entries = text.split(',').map((part) => /^([^=\s]+)=(\d{1,5})$/.exec(part.trim()));
  if (entries.some((match) => !match)) return null;
  return entries.map((match) => ({ variant: match![1]!, weight: Number(match![2]) }));
}

function describeFlag(flag: FlagView): string {
  const rollout = flag.rollout?.map((entry) => `${entry.variant}=${entry.weight}`).join(',') ?? 'none';
  const overrides =
    flag.overrides.map((override) => `${override.orgId}=${override.variant}`).join(',') || 'none';
  return [
    `${flag.key} (${flag.type}) ${flag.enabled ? 'enabled' : 'DISABLED'}`,
    `  default: ${flag.defaultVariant}  variants: ${JSON.stringify(flag.variants)}`,
    `  rollout: ${rollout}  overrides: ${overrides}`,
    ...(flag.description ? [`  ${flag.description}`] : []),
  ].join('\n');
}

export const flagsCommand: CliCommand = {
  options: {
    type: { type: 'string' },
    variants: { type: 'string' },
    default: { type: 'string' },
    description: { type: 'string' },
    org: { type: 'string' },
    variant: { type: 'string' },
    clear: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
  async run({ positionals, values, loadConfig }) {
    const request = commandFor(positionals, values);
    if (!request) {
      console.error(usage);
      return 2;
    }
    const result = await runManagement(loadConfig(), request.command, request.args);
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else if (Array.isArray(result))
      console.log((result as FlagView[]).map(describeFlag).join('\n') || 'no flags');
    else if (request.command === 'flags.delete') console.log(`deleted ${positionals[1]}`);
    else console.log(describeFlag(result as FlagView));
    return 0;
  },
};

type Values = Parameters<CliCommand['run']>[0]['values'];

function commandFor(
  positionals: string[],
  values: Values,
): { command: `flags.${string}` & Parameters<typeof runManagement>[1]; args: unknown } | null {
  const [verb, key, extra, ...rest] = positionals;
  if (rest.length > 0) return null;
  if (verb === 'list' && !key) return { command: 'flags.list', args: {} };
  if (!key) return null;
  const str = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  switch (verb) {
    case 'get':
      return extra ? null : { command: 'flags.get', args: { key } };
    case 'delete':
      return extra ? null : { command: 'flags.delete', args: { key } };
    case 'enable':
    case 'disable':
      return extra ? null : { command: 'flags.enable', args: { key, enabled: verb === 'enable' } };
    case 'set': {
      if (extra) return null;
      let variants: unknown;
      const variantsText = str('variants');
      if (variantsText !== undefined) {
        try {
          variants = JSON.parse(variantsText);
        } catch {
          return null;
        }
      }
      return {
        command: 'flags.set',
        args: {
          key,
          ...(str('type') !== undefined ? { type: str('type') } : {}),
          ...(variants !== undefined ? { variants } : {}),
          ...(str('default') !== undefined ? { defaultVariant: str('default') } : {}),
          ...(str('description') !== undefined ? { description: str('description') } : {}),
        },
      };
    }
    case 'rollout': {
      if (values.clear === true)
        return extra ? null : { command: 'flags.rollout', args: { key, rollout: null } };
      const rollout = extra ? parseRollout(extra) : null;
      return rollout ? { command: 'flags.rollout', args: { key, rollout } } : null;
    }
    case 'override': {
      const org = str('org');
      const variant = str('variant');
      if (extra || org === undefined || (variant === undefined) === (values.clear !== true)) return null;
      return { command: 'flags.override', args: { key, orgName: org, variant: variant ?? null } };
    }
    default:
      return null;
  }
}
