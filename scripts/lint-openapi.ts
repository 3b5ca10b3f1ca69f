import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export interface OpenApiLintResult {
  totals: { errors: number; warnings: number; ignored: number };
  problems: { ruleId: string; severity: string; message: string; location?: { pointer?: string }[] }[];
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Redocly's recommended ruleset over openapi.json (redocly.yaml), offline: no telemetry, no update check. */
export async function lintOpenApi(): Promise<OpenApiLintResult> {
  const redocly = fileURLToPath(new URL('../node_modules/@redocly/cli/bin/cli.js', import.meta.url));
  const args = ['lint', 'openapi.json', '--config', 'redocly.yaml', '--format', 'json'];
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
  // Exit code 1 means errors were found: the JSON on stdout still says which.
  const { stdout } = await promisify(execFile)(process.execPath, [redocly, ...args], {
    cwd: repoRoot,
    env,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string }) => {
    if (!error.stdout) throw error;
    return { stdout: error.stdout };
  });
  return JSON.parse(stdout) as OpenApiLintResult;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { totals, problems } = await lintOpenApi();
  for (const problem of problems) {
    const where = problem.location?.[0]?.pointer ?? '';
    console.error(`${problem.severity} ${problem.ruleId} ${where}: ${problem.message}`);
  }
  console.log(
    `openapi.json: ${totals.errors} errors, ${totals.warnings} warnings (${totals.ignored} ignored)`,
  );
  // Warnings fail too: the document is kept clean, not merely valid.
  process.exitCode = totals.errors + totals.warnings > 0 ? 1 : 0;
}
