import { createRequire } from 'node:module';

/** The package version (package.json sits two levels up from src/backup and from dist/backup). */
export function appVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}
