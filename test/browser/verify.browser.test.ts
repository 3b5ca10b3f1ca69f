import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuardian } from '../helpers/guardian-process.js';
import { createMediaTempDir, generateClip, type MediaTempDir } from '../helpers/media-fixtures.js';
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

interface Evidence {
  bundlePath: string;
  mediaPath: string;
  otherMediaPath: string;
  tamperedPath: string;
  leafIndex: number;
  statementSha256: string;
}

/** Uploads a clip with an analyst's API key, waits for its analysis and downloads the evidence bundle. */
async function analyseAndFetchEvidence(site: GuardianSite, media: MediaTempDir): Promise<Evidence> {
  const created = await runGuardian(
    ['apikey', 'create', '--org', analyst.org, '--name', 'browser test', '--role', 'analyst'],
    site.env,
  );
  const key = created.stdout.trim().split('\n').at(-1) ?? '';
  const auth = { authorization: `Bearer ${key}` };
  const [mediaPath, otherMediaPath] = await Promise.all([
    generateClip(media.dir, { seconds: 1, size: '160x120', name: 'clip' }),
    generateClip(media.dir, { seconds: 1, size: '160x120', source: 'mandelbrot', name: 'other' }),
  ]);
  const form = new FormData();
  form.append('file', new Blob([await readFile(mediaPath)]), 'clip.mp4');
  const upload = await fetch(`${site.url}/api/v1/media`, { method: 'POST', headers: auth, body: form });
  expect(upload.status).toBe(201);
  const { analysisId } = (await upload.json()) as { analysisId: string };
  await waitForDone(`${site.url}/api/v1/analyses/${analysisId}`, auth);
  const evidence = await fetch(`${site.url}/api/v1/analyses/${analysisId}/evidence`, { headers: auth });
  expect(evidence.status).toBe(200);
  const text = await evidence.text();
  const bundlePath = join(media.dir, 'evidence.json');
  await writeFile(bundlePath, text);
  // One flipped byte inside the report's hash in the statement: still JSON, no longer what was signed.
  const at = text.indexOf('"report":{"canonicalization":"RFC8785","sha256":"') + 50;
  const flipped = text.slice(0, at) + (text[at] === 'a' ? 'b' : 'a') + text.slice(at + 1);
  expect(flipped).not.toBe(text);
  const tamperedPath = join(media.dir, 'tampered.json');
  await writeFile(tamperedPath, flipped);
  const bundle = JSON.parse(text) as { leafIndex: number };
  const pdfDigest = await import('node:crypto').then(async ({ createHash }) => {
    const { canonicalJson } = await import('../../src/evidence/canonical-json.js');
    return createHash('sha256')
      .update(canonicalJson((JSON.parse(text) as { statement: unknown }).statement))
      .digest('hex');
  });
  return {
    bundlePath,
    mediaPath,
    otherMediaPath,
    tamperedPath,
    leafIndex: bundle.leafIndex,
    statementSha256: pdfDigest,
  };
}

/** Polls the analysis until it is done (expect.poll only works inside a test, not in beforeAll). */
async function waitForDone(url: string, headers: Record<string, string>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { status } = (await (await fetch(url, { headers })).json()) as { status: string };
    if (status === 'done') return;
    if (status === 'failed' || Date.now() > deadline) throw new Error(`analysis ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function checkFiles(page: Page, bundlePath: string, mediaPath?: string) {
  await page.getByLabel('Evidence bundle (JSON)').setInputFiles(bundlePath);
  if (mediaPath) {
    await page.getByLabel(/^Media file/).setInputFiles(mediaPath);
    await page.getByText(/^SHA-256 [0-9a-f]{64}$/).waitFor();
  }
  await page.getByRole('button', { name: 'Check the bundle' }).click();
  await page.getByRole('heading', { name: 'Result' }).waitFor();
}

function checkItem(page: Page, title: string) {
  return page.getByRole('list', { name: 'Checks' }).getByRole('listitem').filter({ hasText: title });
}

describe('the verify and help pages in Chromium', () => {
  let site: GuardianSite;
  let browser: Browser;
  let media: MediaTempDir;
  let evidence: Evidence;

  beforeAll(async () => {
    media = await createMediaTempDir('guardian-verify-browser-');
    [site, browser] = await startSiteAndBrowser([analyst]);
    evidence = await analyseAndFetchEvidence(site, media);
  }, 150_000);
  afterAll(async () => {
    await browser?.close();
    await site?.stop();
    await media?.remove();
  });

  it('verifies a real bundle with its media for a signed-out visitor, every check passing', async () => {
    const page = await openPage(browser);
    const errors = collectPageErrors(page);
    await page.goto(`${site.url}/verify`);
    await page.getByRole('heading', { name: 'Verify an evidence bundle' }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'verify');

    await checkFiles(page, evidence.bundlePath, evidence.mediaPath);
    await expect
      .poll(() =>
        page
          .getByRole('status')
          .filter({ hasText: /verified/i })
          .textContent(),
      )
      .toMatch(/^Verified: every check that could run passed\. 1 check could not run/);
    for (const title of [
      'The file is an evidence bundle',
      'The file is exactly as it was issued',
      'The statement carries a valid signature',
      'The report is the one the statement names',
      'The statement is in the transparency log',
      'The log state is signed',
      "Signed by this site's log key",
      'The media file matches the statement',
    ])
      expect(await checkItem(page, title).locator('.verify-status').textContent(), title).toBe('Passed');
    expect(await checkItem(page, 'External timestamps').locator('.verify-status').textContent()).toBe(
      'Not checked',
    );
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'verify-passed');
    expect(errors).toEqual([]);
    await closePage(page);
  });

  it('shows a mismatch for another media file, and a failed check for a bundle with one flipped byte', async () => {
    const page = await openPage(browser);
    await page.goto(`${site.url}/verify`);
    await checkFiles(page, evidence.bundlePath, evidence.otherMediaPath);
    const media = checkItem(page, 'The media file matches the statement');
    await expect.poll(() => media.locator('.verify-status').textContent()).toBe('Failed');
    expect(await media.textContent()).toMatch(/not the file this statement is about/);
    expect(await page.getByText(/^Not verified: 1 check failed/).count()).toBe(1);
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'verify-media-mismatch');

    await page.goto(`${site.url}/verify`);
    await checkFiles(page, evidence.tamperedPath);
    expect(
      await checkItem(page, 'The statement carries a valid signature')
        .locator('.verify-status')
        .textContent(),
    ).toBe('Failed');
    expect(await page.getByText(/^Not verified/).count()).toBe(1);
    await keepScreenshot(page, 'verify-tampered');
    await closePage(page);
  });

  it('hashes a media file dropped on the page and matches it against the bundle', async () => {
    const page = await openPage(browser);
    await page.goto(`${site.url}/verify`);
    const bytes = [...(await readFile(evidence.mediaPath))];
    // Runs in the page: the DOM's DataTransfer and File, which this (Node) test's types do not declare.
    const transfer = await page.evaluateHandle((content) => {
      const dom = globalThis as unknown as {
        DataTransfer: new () => { items: { add(file: unknown): void } };
        File: new (parts: Uint8Array[], name: string, options: { type: string }) => unknown;
      };
      const data = new dom.DataTransfer();
      data.items.add(new dom.File([new Uint8Array(content)], 'clip.mp4', { type: 'video/mp4' }));
      return data;
    }, bytes);
    await page.getByTestId('verify-drop-zone').dispatchEvent('drop', { dataTransfer: transfer });
    await page.getByText(/^SHA-256 [0-9a-f]{64}$/).waitFor();
    await page.getByLabel('Evidence bundle (JSON)').setInputFiles(evidence.bundlePath);
    await page.getByRole('button', { name: 'Check the bundle' }).click();
    await expect
      .poll(() =>
        checkItem(page, 'The media file matches the statement').locator('.verify-status').textContent(),
      )
      .toBe('Passed');
    await closePage(page);
  });

  it('looks up the log entry named by a PDF QR link and checks the dropped bundle against it', async () => {
    const page = await openPage(browser);
    const errors = collectPageErrors(page);
    await page.goto(`${site.url}/verify?leaf=${evidence.leafIndex}&statement=${evidence.statementSha256}`);
    await page.getByText(`has an entry number ${evidence.leafIndex}`, { exact: false }).waitFor();
    expect(await page.getByText(evidence.statementSha256).count()).toBe(1);
    expect(await page.getByText(/To check fully, drop or choose the evidence bundle/).count()).toBe(1);
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'verify-qr-link');

    await checkFiles(page, evidence.bundlePath);
    await expect
      .poll(() =>
        checkItem(page, 'The bundle is the one the PDF report names').locator('.verify-status').textContent(),
      )
      .toBe('Passed');
    // The log lookup answers on its own schedule: the bundle check can pass first (a CI run saw 'Not checked').
    await expect
      .poll(() =>
        checkItem(page, `The statement is entry ${evidence.leafIndex} of this site's log`)
          .locator('.verify-status')
          .textContent(),
      )
      .toBe('Passed');
    expect(
      await checkItem(page, 'The media file matches the statement').locator('.verify-status').textContent(),
    ).toBe('Not checked');
    await keepScreenshot(page, 'verify-qr-link-checked');

    await page.goto(`${site.url}/verify?leaf=${evidence.leafIndex}&statement=${'0'.repeat(64)}`);
    await checkFiles(page, evidence.bundlePath);
    await expect
      .poll(() =>
        checkItem(page, 'The bundle is the one the PDF report names').locator('.verify-status').textContent(),
      )
      .toBe('Failed');
    expect(errors).toEqual([]);
    await closePage(page);
  });

  it('fits a 360 px wide screen, long hashes included', async () => {
    const page = await openPage(browser, { viewport: { width: 360, height: 740 } });
    await page.goto(`${site.url}/verify?leaf=${evidence.leafIndex}&statement=${evidence.statementSha256}`);
    await checkFiles(page, evidence.bundlePath, evidence.mediaPath);
    await page.getByText(/^Verified/).waitFor();
    await page.locator('details').first().click();
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await keepScreenshot(page, 'verify-360px');
    await closePage(page);
  });

  it('renders the help page and, for a signed-in user, the API reference without CSP errors', async () => {
    const page = await openPage(browser);
    const errors = collectPageErrors(page);
    await page.goto(`${site.url}/help`);
    await page.getByRole('heading', { name: 'What each band means' }).waitFor();
    for (const band of [
      'Manipulation indicators found',
      'Inconclusive',
      'No indicators found by these checks',
      'Not analyzable',
    ])
      expect(
        await page
          .getByRole('term')
          .filter({ hasText: new RegExp(`^${band}$`) })
          .count(),
        band,
      ).toBe(1);
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'help');
    await page.getByRole('link', { name: 'User guide', exact: true }).click();
    await page.waitForURL(`${site.url}/docs/user-guide.md`);
    expect(await page.textContent('body')).toContain('# SecureAI Guardian: user guide');

    await page.goto(`${site.url}/sign-in`);
    await page.getByLabel('Email').fill(analyst.email);
    await page.getByLabel('Password').fill(analyst.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${site.url}/history`);
    await page.goto(`${site.url}/help`);
    await page.getByRole('link', { name: 'API reference', exact: true }).click();
    await page.waitForURL(`${site.url}/api/docs`);
    await page.getByText('/api/v1/verify').first().waitFor();
    expect(await page.locator('.opblock').count()).toBeGreaterThan(20);
    await keepScreenshot(page, 'api-docs');
    expect(errors).toEqual([]);
    await closePage(page);
  });
});
