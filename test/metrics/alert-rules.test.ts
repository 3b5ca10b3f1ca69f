import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const rulesDir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));

/** promtool's exit status and output; a missing promtool fails the test (CI installs it), it never skips. */
async function promtool(...args: string[]) {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: rulesDir, timeout: 30_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & {
      code?: number | string;
      stdout?: string;
      stderr?: string;
    };
    if (failure.code === 'ENOENT')
      throw new Error('promtool is not installed (Debian: apt-get install prometheus)', {
        cause: error,
      });
    return { code: failure.code, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

describe('Prometheus alert rules (deploy/prometheus)', () => {
  it('pass `promtool check rules`', async () => {
    const result = await promtool('check', 'rules', 'alerts.yml');
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('pass their unit tests: each alert fires in a positive case and stays silent in a negative one', async () => {
    const result = await promtool('test', 'rules', 'alerts.test.yml');
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });
});
