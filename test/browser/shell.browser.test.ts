import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessibilityViolations,
  closePage,
  collectPageErrors,
  keepScreenshot,
  openPage,
} from './support/chromium.js';
import { startSiteAndBrowser, type GuardianSite } from './support/guardian-site.js';

const analyst = {
  email: 'analyst@newsroom.test',
  password: 'an analyst passphrase of some length',
  org: 'Newsroom',
  role: 'analyst' as const,
};

describe('the web app shell in Chromium', () => {
  let site: GuardianSite;
  let browser: Browser;

  beforeAll(async () => {
    [site, browser] = await startSiteAndBrowser([analyst]);
  });
  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  it('sends a visitor from / to sign-in, signs in by the labelled fields and lands on history', async () => {
    const page = await openPage(browser);
    const errors = collectPageErrors(page);
    await page.goto(`${site.url}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'sign-in');

    await page.getByLabel('Email').fill(analyst.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/\w/);

    await page.getByLabel('Password').fill(analyst.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${site.url}/history`);
    await page.getByRole('link', { name: 'Upload' }).waitFor();
    expect(errors).toEqual([]);
    await closePage(page);
  });

  it('asks for sign-in before a protected page and returns there afterwards', async () => {
    const page = await openPage(browser);
    await page.goto(`${site.url}/upload`);
    await page.waitForURL(/\/sign-in\?next=%2Fupload/);
    await page.getByLabel('Email').fill(analyst.email);
    await page.getByLabel('Password').fill(analyst.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${site.url}/upload`);
    await closePage(page);
  });

  it('fits a 360 px wide screen without horizontal scrolling', async () => {
    const page = await openPage(browser, { viewport: { width: 360, height: 740 } });
    await page.goto(`${site.url}/sign-in`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await keepScreenshot(page, 'sign-in-360px');
    await closePage(page);
  });
});
