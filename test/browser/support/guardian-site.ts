import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { runGuardian, startGuardian, type RunningGuardian } from '../../helpers/guardian-process.js';
import { launchChromium } from './chromium.js';

const builtIndex = fileURLToPath(new URL('../../../dist/web/index.html', import.meta.url));

export interface SiteUser {
  email: string;
  password: string;
  org: string;
  role: 'admin' | 'analyst' | 'viewer' | 'auditor';
}

export interface GuardianSite {
  url: string;
  env: NodeJS.ProcessEnv;
  dir: string;
  stop(): Promise<void>;
}

/** A real `guardian serve` on its embedded defaults with the built web app, and users made by the CLI. */
export async function startGuardianSite(
  users: SiteUser[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<GuardianSite> {
  if (!existsSync(builtIndex))
    throw new Error('dist/web is missing: `npm ci` builds it, or run `npm run web:build`');
  const dir = mkdtempSync(join(tmpdir(), 'guardian-browser-'));
  const env = { DATA_DIR: join(dir, 'data'), PORT: '0', ...extraEnv };
  let server: RunningGuardian | null = null;
  try {
    server = await startGuardian('serve', env);
    for (const org of new Set(users.map((user) => user.org))) {
      const created = await runGuardian(['org', 'create', org], env);
      if (created.code !== 0) throw new Error(`org create ${org}: ${created.stderr}`);
    }
    for (const user of users) {
      const created = await runGuardian(
        ['user', 'create', '--email', user.email, '--org', user.org, '--role', user.role],
        env,
        { input: `${user.password}\n` },
      );
      if (created.code !== 0) throw new Error(`user create ${user.email}: ${created.stderr}`);
    }
  } catch (error) {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const running = server;
  return {
    url: running.url ?? '',
    env,
    dir,
    async stop() {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The site and a browser side by side; when either fails to start, the other is stopped before the error. */
export async function startSiteAndBrowser(
  users: SiteUser[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<[GuardianSite, Browser]> {
  const [site, browser] = await Promise.allSettled([startGuardianSite(users, extraEnv), launchChromium()]);
  if (site.status === 'fulfilled' && browser.status === 'fulfilled') return [site.value, browser.value];
  if (site.status === 'fulfilled') await site.value.stop();
  if (browser.status === 'fulfilled') await browser.value.close();
  throw site.status === 'rejected' ? site.reason : (browser as PromiseRejectedResult).reason;
}
