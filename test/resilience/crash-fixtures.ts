import { expect } from 'vitest';
import { runGuardian, startGuardian, type RunningGuardian } from '../helpers/guardian-process.js';

/** One organisation and one analyst key through the CLI: two CLI runs instead of createOrgsAndKeys's five. */
export async function createAnalystKey(env: NodeJS.ProcessEnv): Promise<string> {
  const created = await runGuardian(['org', 'create', 'Crash Desk'], env);
  expect(created.code, created.stderr).toBe(0);
  const key = await runGuardian(
    ['apikey', 'create', '--org', 'Crash Desk', '--name', 'crash suite', '--role', 'analyst'],
    env,
  );
  expect(key.code, key.stderr).toBe(0);
  const lastLine = key.stdout.trim().split('\n').at(-1) ?? '';
  expect(lastLine).toMatch(/^sag_[A-Za-z0-9_-]{43}$/);
  return lastLine;
}

/** Polls `probe` every 50 ms until it returns a value; throws naming `what` past the deadline. */
export async function until<T>(
  what: string,
  deadline: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Starts `guardian serve|worker` with the suite's environment and records it in `started` for cleanup. */
export function guardianStarter(env: NodeJS.ProcessEnv, started: RunningGuardian[]) {
  return async (command: 'serve' | 'worker', extra: NodeJS.ProcessEnv = {}) => {
    // Generous: other test runs may share this machine's two cores.
    const child = await startGuardian(command, { ...env, ...extra }, 120_000);
    started.push(child);
    return child;
  };
}

export const isAlive = (child: RunningGuardian) =>
  child.process.exitCode === null && child.process.signalCode === null;

/** Stops every still-running process the suite started (SIGTERM, then SIGKILL after 20 s). */
export async function stopStarted(started: RunningGuardian[]): Promise<void> {
  for (const child of started) {
    if (!isAlive(child)) continue;
    const timer = setTimeout(() => child.process.kill('SIGKILL'), 20_000);
    await child.stop();
    clearTimeout(timer);
  }
}
