import { configFields } from './config.schema.js';

const width = 100;

/** Renders .env.example from the config schema: every setting, commented out at its default, so it cannot drift. */
export function renderEnvExample(): string {
  const blocks = Object.entries(configFields).map(([name, field]) => {
    const parsed = field.schema.safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? envValue(parsed.data) : '';
    const lines = wrap(field.doc).map((line) => `# ${line}`);
    lines.push(`# ${name}=${fallback}`);
    if ('secret' in field && field.secret) lines.push(`# ${name}_FILE=/run/secrets/${name.toLowerCase()}`);
    return lines.join('\n');
  });
  return [
    '# SecureAI Guardian: every setting, generated from src/config/config.schema.ts by `npm run docs:config`.',
    '# Do not edit by hand. Each line shows the default (empty: unset). Secrets also read NAME_FILE, a path',
    '# whose contents are the value: prefer that over putting a secret in this file.',
    '# Profiles with the values that differ per stage: deploy/env/development.env, staging.env, production.env.',
    '# Reference with explanations: docs/configuration.md.',
    '',
    blocks.join('\n\n'),
    '',
  ].join('\n');
}

function envValue(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width - 2) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
