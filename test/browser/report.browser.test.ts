import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuardian } from '../helpers/guardian-process.js';
import { createMediaTempDir, runFfmpeg, type MediaTempDir } from '../helpers/media-fixtures.js';
import { uploadMultipart, waitForAnalysis } from '../e2e/upload-flow.js';
import {
  accessibilityViolations,
  closePage,
  collectPageErrors,
  keepScreenshot,
  openPage,
} from './support/chromium.js';
import { startSiteAndBrowser, type GuardianSite, type SiteUser } from './support/guardian-site.js';

const analyst: SiteUser = {
  email: 'analyst@newsroom.test',
  password: 'an analyst passphrase of some length',
  org: 'Newsroom',
  role: 'analyst',
};
const outsider: SiteUser = {
  email: 'analyst@other.test',
  password: 'another passphrase of some length',
  org: 'Other Org',
  role: 'analyst',
};
const faceImage = fileURLToPath(new URL('../fixtures/faces/astronaut-face.jpg', import.meta.url));
const bandWords = [
  'Manipulation indicators found',
  'Inconclusive',
  'No indicators found by these checks',
  'Not analyzable',
];

/** A 4 s clip: a plain backdrop, the astronaut's face pasted on from 2 s on (so boxes belong after 2 s only). */
async function faceClip(dir: string): Promise<string> {
  const output = join(dir, 'face-from-2s.mp4');
  await runFfmpeg([
    ...['-f', 'lavfi', '-i', 'color=c=0x556677:size=640x360:rate=10'],
    ...['-loop', '1', '-i', faceImage],
    ...['-filter_complex', "[1:v]scale=-2:300[f];[0:v][f]overlay=x=170:y=30:enable='gte(t,2)'"],
    ...['-t', '4', '-r', '10', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', output],
  ]);
  return output;
}

async function signIn(page: Page, url: string, user: SiteUser, next: string): Promise<void> {
  await page.goto(`${url}/sign-in?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${url}${next}`);
}

/** The player's element as the page sees it (the test's own types carry no DOM). */
interface PlayerElement {
  currentTime: number;
  readyState: number;
  addEventListener(type: string, listener: () => void, options: { once: boolean }): void;
}
const videoTime = (page: Page) =>
  page.locator('video').evaluate((video) => (video as unknown as PlayerElement).currentTime);
const faceBoxCount = (page: Page) =>
  page.locator('svg.face-overlay').evaluate((svg) => Number(svg.getAttribute('data-face-boxes')));

describe('the report page in Chromium', () => {
  let site: GuardianSite;
  let browser: Browser;
  let media: MediaTempDir;
  let analysisId: string;
  let imageAnalysisId: string;
  let failedAnalysisId: string;
  /** The analyst's signed-in cookies, so each test opens the report without signing in again. */
  let analystSession: BrowserContextOptions['storageState'];

  beforeAll(async () => {
    media = await createMediaTempDir('guardian-report-browser-');
    [site, browser] = await startSiteAndBrowser([analyst, outsider]);
    const created = await runGuardian(
      ['apikey', 'create', '--org', analyst.org, '--name', 'browser test', '--role', 'analyst'],
      site.env,
    );
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim().split('\n').at(-1) ?? '';
    const clip = await faceClip(media.dir);
    const still = join(media.dir, 'astronaut.jpg');
    await copyFile(faceImage, still);
    const uploaded = await uploadMultipart(site.url, key, clip, 'face-from-2s.mp4');
    expect(uploaded.status).toBe(201);
    analysisId = ((await uploaded.json()) as { analysisId: string }).analysisId;
    const image = await uploadMultipart(site.url, key, still, 'astronaut.jpg');
    expect(image.status).toBe(201);
    imageAnalysisId = ((await image.json()) as { analysisId: string }).analysisId;
    // Queued behind the two above (one worker) and deleted at once: its analysis ends failed, media-missing.
    const doomedFile = join(media.dir, 'doomed.png');
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=64x64', '-frames:v', '1', doomedFile]);
    const doomed = (await (await uploadMultipart(site.url, key, doomedFile, 'doomed.png')).json()) as {
      id: string;
      analysisId: string;
    };
    failedAnalysisId = doomed.analysisId;
    const deleted = await fetch(`${site.url}/api/v1/media/${doomed.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(deleted.status).toBe(204);
  });

  async function openAsAnalyst(path: string, options: BrowserContextOptions = {}): Promise<Page> {
    if (!analystSession) {
      const page = await openPage(browser);
      await signIn(page, site.url, analyst, path);
      analystSession = await page.context().storageState();
      await closePage(page);
    }
    const page = await openPage(browser, { ...options, storageState: analystSession });
    await page.goto(`${site.url}${path}`);
    return page;
  }
  afterAll(async () => {
    await browser?.close();
    await site?.stop();
    await media?.remove();
  });

  it('follows the analysis live, then shows the band in words, the checks and a timeline that seeks the video', async () => {
    const page = await openAsAnalyst(`/analyses/${analysisId}`);
    const errors = collectPageErrors(page);
    const result = page.getByRole('heading', { name: 'Result', level: 2 });
    const progress = page.getByRole('heading', { name: /^(Analysing|Waiting in the queue)$/ });
    await Promise.race([result.waitFor({ timeout: 90_000 }), progress.waitFor({ timeout: 90_000 })]);
    if (await progress.isVisible()) {
      await page.getByRole('progressbar').waitFor();
      expect(await accessibilityViolations(page)).toEqual([]);
      await keepScreenshot(page, 'report-live-progress');
    }
    await result.waitFor({ timeout: 90_000 });

    const band = page.locator('.report-band');
    expect(bandWords).toContain((await band.textContent())?.trim());
    await page.getByRole('heading', { name: 'Why' }).waitFor();
    for (const id of ['gop-double-compression', 'metadata-traces', 'face-noise-mismatch', 'av-offset'])
      await page.getByRole('heading', { name: new RegExp(`^${id}`), level: 3 }).waitFor();
    await page.getByText('Not applicable: the media has no audio stream.').first().waitFor();
    await page.getByRole('heading', { name: 'Coverage and compression' }).waitFor();
    await page.getByRole('link', { name: 'Download report (JSON)' }).waitFor();
    await page.getByRole('link', { name: 'Download the evidence bundle' }).waitFor();
    await page.getByRole('link', { name: 'Download report (PDF)' }).waitFor();
    await page.getByRole('button', { name: 'Re-run with the current pipeline' }).waitFor();
    // A PGM evidence image is converted in the page and shown as an image with its description as alt text.
    await page.locator('img.artifact-image-pixelated').first().waitFor();

    expect(await page.locator('main').innerHTML()).not.toMatch(/authentic/i);

    const timeline = page.getByRole('slider', { name: /Timeline/ });
    await page.locator('video').evaluate(
      (element) =>
        new Promise<void>((resolve) => {
          const video = element as unknown as PlayerElement;
          if (video.readyState >= 1) resolve();
          else video.addEventListener('loadedmetadata', () => resolve(), { once: true });
        }),
    );
    const box = await timeline.boundingBox();
    if (!box) throw new Error('the timeline is not laid out');
    const plotLeft = 28;
    const plotWidth = box.width - plotLeft - 20;
    // Three quarters into a 4 s clip: 3 s, where the face is on screen.
    await timeline.click({ position: { x: plotLeft + plotWidth * 0.75, y: 40 } });
    await expect.poll(() => videoTime(page)).toBeGreaterThan(2.8);
    expect(await videoTime(page)).toBeLessThan(3.2);
    await expect.poll(() => timeline.getAttribute('aria-valuenow')).toMatch(/^(2\.9|3)/);

    // Before 2 s no face is on screen, and no box is drawn; from 2 s on the face's box is drawn.
    await timeline.click({ position: { x: plotLeft + plotWidth * 0.25, y: 40 } });
    await expect.poll(() => videoTime(page)).toBeLessThan(1.2);
    await expect.poll(() => faceBoxCount(page)).toBe(0);
    await timeline.click({ position: { x: plotLeft + plotWidth * 0.6, y: 40 } });
    await expect.poll(() => faceBoxCount(page)).toBe(1);
    await page.getByText(/^Face 1 at \d+, \d+/).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'report-video-with-faces');
    // The keyboard moves along the timeline too.
    await timeline.focus();
    await page.keyboard.press('Home');
    await expect.poll(() => videoTime(page)).toBeLessThan(0.1);
    await expect.poll(() => faceBoxCount(page)).toBe(0);
    expect(errors).toEqual([]);
    await closePage(page);
  }, 180_000);

  it('shows a still image with its face boxes', async () => {
    await waitForAnalysisByBrowser(imageAnalysisId);
    const page = await openAsAnalyst(`/analyses/${imageAnalysisId}`);
    await page.getByRole('heading', { name: 'Image and faces' }).waitFor({ timeout: 60_000 });
    await page.getByRole('img', { name: 'The analysed image' }).waitFor();
    await expect.poll(() => faceBoxCount(page)).toBeGreaterThanOrEqual(1);
    expect(bandWords).toContain((await page.locator('.report-band').textContent())?.trim());
    expect(await page.locator('main').innerHTML()).not.toMatch(/authentic/i);
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'report-image-with-faces');
    await closePage(page);
  }, 120_000);

  it('fits a 360 px wide screen', async () => {
    const page = await openAsAnalyst(`/analyses/${analysisId}`, { viewport: { width: 360, height: 740 } });
    await page.getByRole('heading', { name: 'Result', level: 2 }).waitFor({ timeout: 60_000 });
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await keepScreenshot(page, 'report-360px');
    await closePage(page);
  });

  it('tells a user of another organisation that the analysis does not exist, showing nothing of it', async () => {
    const page = await openPage(browser);
    const answers: number[] = [];
    page.on('response', (response) => {
      if (response.url().endsWith(`/api/v1/analyses/${analysisId}`)) answers.push(response.status());
    });
    await signIn(page, site.url, outsider, `/analyses/${analysisId}`);
    await page.getByRole('heading', { name: 'Analysis not found' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/does not exist, or it belongs to another/);
    expect(answers).toContain(404);
    const text = (await page.locator('main').textContent()) ?? '';
    for (const words of bandWords) expect(text).not.toContain(words);
    expect(await page.locator('video').count()).toBe(0);
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'report-not-found');
    await closePage(page);
  });

  it('says in words why an analysis failed, and shows no band', async () => {
    const page = await openAsAnalyst(`/analyses/${failedAnalysisId}`);
    await page.getByRole('heading', { name: 'The analysis failed' }).waitFor({ timeout: 120_000 });
    expect(await page.getByRole('alert').textContent()).toBe(
      'The media file was deleted before it could be analysed.',
    );
    const text = (await page.locator('main').textContent()) ?? '';
    for (const words of bandWords) expect(text).not.toContain(words);
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'report-failed');
    await closePage(page);
  }, 150_000);

  async function waitForAnalysisByBrowser(id: string): Promise<void> {
    const created = await runGuardian(
      ['apikey', 'create', '--org', analyst.org, '--name', `wait ${id}`, '--role', 'viewer'],
      site.env,
    );
    const key = created.stdout.trim().split('\n').at(-1) ?? '';
    const finished = await waitForAnalysis(site.url, key, id);
    expect(finished.status).toBe('done');
  }
});
