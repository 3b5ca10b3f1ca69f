import { configFields } from './config.schema.js';

/** Renders docs/configuration.md from the config schema, so the reference cannot drift from the code. */
export function renderConfigurationDoc(): string {
  const rows = Object.entries(configFields).map(([name, field]) => {
    const parsed = field.schema.safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? `\`${String(parsed.data)}\`` : '(unset)';
    const secret = 'secret' in field && field.secret ? ` Secret: also read from \`${name}_FILE\`.` : '';
    return `| \`${name}\` | ${fallback} | ${field.doc}${secret} |`;
  });
  return [
    '# Configuration',
    '',
    '<!-- Generated from src/config/config.schema.ts by `npm run docs:config`. Do not edit by hand. -->',
    '',
    'Every setting is an environment variable, validated at start; an invalid value stops the process with a',
    'message naming the variable. `guardian config check` validates without starting anything.',
    '',
    '| Variable | Default | Meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
