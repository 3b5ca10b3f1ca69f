import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  email: 'uploader@newsroom.test',
  password: 'an uploader passphrase of some length',
  org: 'Newsroom',
  role: 'analyst' as const,
};
const maxUploadBytes = 16 * 1024 * 1024;
// The final band only: a preliminary one reads "… (preliminary)".
const bandWords =
  /^(Manipulation indicators found|Inconclusive|No indicators found by these checks|Not analyzable)$/;

describe('upload, live progress, batch and history in Chromium', () => {
  let site: GuardianSite;
  let browser: Browser;
  let media: MediaTempDir;
  let clips: string[];
  let largeClip: string;
  let thirdClip: string;
  let tooLarge: string;
  let notMedia: string;

  beforeAll(async () => {
    media = await createMediaTempDir('guardian-upload-browser-');
    // The clips first: encoding them beside the server's start would slow it on a busy machine.
    [clips, largeClip, thirdClip] = await Promise.all([
      Promise.all([
        generateClip(media.dir, { seconds: 1, name: 'harbour-interview' }),
        generateClip(media.dir, { seconds: 1, source: 'smptebars', name: 'press-briefing' }),
      ]),
      // Lossless noise: about 9 MB, large enough to pause half-way under a throttled connection.
      generateClip(media.dir, {
        seconds: 1,
        size: '640x360',
        noise: 30,
        qp: 0,
        preset: 'ultrafast',
        name: 'long-recording',
      }),
      generateClip(media.dir, { seconds: 1, source: 'mandelbrot', name: 'lobby-camera' }),
    ]);
    [site, browser] = await startSiteAndBrowser([analyst], { MAX_UPLOAD_BYTES: String(maxUploadBytes) });
    tooLarge = join(media.dir, 'too-big.mp4');
    await writeFile(tooLarge, Buffer.alloc(maxUploadBytes + 1024 * 1024));
    notMedia = join(media.dir, 'notes.html');
    await writeFile(notMedia, '<!doctype html><p>not a video</p>');
  });
  afterAll(async () => {
    await browser?.close();
    await site?.stop();
    await media?.remove();
  });

  async function signedIn(path: string, viewport?: { width: number; height: number }): Promise<Page> {
    const page = await openPage(browser, viewport ? { viewport } : {});
    await page.goto(`${site.url}/sign-in?next=${encodeURIComponent(path)}`);
    await page.getByLabel('Email').fill(analyst.email);
    await page.getByLabel('Password').fill(analyst.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${site.url}${path}`);
    return page;
  }

  async function uploadInput(page: Page) {
    const input = page.getByLabel('Files to upload');
    await expect.poll(() => input.isEnabled()).toBe(true);
    return input;
  }

  it('uploads two clips, shows their analysis stage by stage with the band words, then the batch view', async () => {
    const page = await signedIn('/upload');
    const errors = collectPageErrors(page);
    await (await uploadInput(page)).setInputFiles(clips);

    for (const name of ['harbour-interview.mp4', 'press-briefing.mp4']) {
      await page.getByRole('heading', { name }).waitFor();
      await page
        .getByRole('list', { name: `Analysis stages of ${name}` })
        .getByText(/done in/)
        .first()
        .waitFor();
      await page.getByRole('link', { name: `Report for ${name}` }).waitFor();
    }
    const stages = await page
      .getByRole('list', { name: 'Analysis stages of harbour-interview.mp4' })
      .textContent();
    expect(stages).toMatch(/Reading the container: done in \d/);
    // Each file ends with its final band (a preliminary one may show before, marked as such).
    await expect.poll(() => page.getByText(/^Analysis finished/).count(), { timeout: 45_000 }).toBe(2);
    expect(await page.locator('.band').allTextContents()).toEqual([
      expect.stringMatching(bandWords),
      expect.stringMatching(bandWords),
    ]);
    const report = await page
      .getByRole('link', { name: 'Report for harbour-interview.mp4' })
      .getAttribute('href');
    expect(report).toMatch(/^\/analyses\/[0-9a-f-]{36}$/);
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'upload-analysed');

    await page.getByRole('link', { name: 'Follow all 2 files in the batch view' }).click();
    await page.waitForURL(/\/batch\?media=[0-9a-f-]{36},[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'press-briefing.mp4' }).waitFor();
    await expect.poll(() => page.getByText(/^Analysis finished/).count()).toBe(2);
    expect(await page.locator('.band').allTextContents()).toEqual([
      expect.stringMatching(bandWords),
      expect.stringMatching(bandWords),
    ]);
    expect(await page.getByRole('link', { name: /^Report for / }).count()).toBe(2);
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'batch');
    expect(errors).toEqual([]);
    await closePage(page);
  }, 90_000);

  it('explains a too-large file and a file that is not media before sending any byte, at 360 px wide', async () => {
    const page = await signedIn('/upload', { width: 360, height: 740 });
    const tusRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/v1/uploads') && request.method() !== 'OPTIONS')
        tusRequests.push(`${request.method()} ${request.url()}`);
    });
    await (await uploadInput(page)).setInputFiles([tooLarge, notMedia]);
    await page
      .getByText('Not sent: too-big.mp4 is 17.0 MiB; this server accepts files up to 16.0 MiB.')
      .waitFor();
    await page.getByText(/Not sent: notes\.html is not a video or image file \(text\/html\)/).waitFor();
    expect(tusRequests).toEqual([]);
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'upload-refused-before-sending');
    await closePage(page);
  });

  it('pauses and resumes a larger upload, and resumes it after a reload when the file is chosen again', async () => {
    const page = await signedIn('/upload');
    // A slow uplink, so the upload is still under way when the buttons are pressed.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 5,
      downloadThroughput: -1,
      uploadThroughput: 1.5 * 1024 * 1024,
    });
    const progress = page.getByRole('progressbar', { name: 'Upload of long-recording.mp4' });
    const sent = async () => Number(await progress.getAttribute('value'));

    await (await uploadInput(page)).setInputFiles(largeClip);
    await expect.poll(sent).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Pause long-recording.mp4' }).click();
    await page.getByText(/sent, paused\./).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'upload-paused');
    const pausedAt = await sent();

    await page.getByRole('button', { name: 'Resume long-recording.mp4' }).click();
    await expect.poll(sent).toBeGreaterThan(pausedAt);
    await page.getByRole('button', { name: 'Pause long-recording.mp4' }).click();
    await page.getByText(/sent, paused\./).waitFor();

    await page.reload();
    await page.getByRole('heading', { name: 'Unfinished uploads' }).waitFor();
    await page.getByRole('button', { name: 'Discard long-recording.mp4' }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'upload-unfinished-after-reload');

    const creations: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().includes('/api/v1/uploads'))
        creations.push(request.url());
    });
    await (await uploadInput(page)).setInputFiles(largeClip);
    await page.getByText(/resumed from an earlier upload/).waitFor();
    await page.getByRole('link', { name: 'Report for long-recording.mp4' }).waitFor({ timeout: 30_000 });
    expect(creations).toEqual([]);
    expect(await page.getByRole('heading', { name: 'Unfinished uploads' }).count()).toBe(0);
    await closePage(page);
  });

  it('reconnects the progress socket by itself after the connection drops, and still gets the band', async () => {
    const page = await signedIn('/upload');
    let connections = 0;
    // The first connection is cut right after its first message, as by a restarting proxy.
    await page.routeWebSocket(/\/api\/v1\/events/, (socket) => {
      connections++;
      const server = socket.connectToServer();
      if (connections > 1) return;
      server.onMessage((message) => {
        socket.send(message);
        void socket.close({ code: 1012, reason: 'restarting' });
        void server.close();
      });
    });
    await (await uploadInput(page)).setInputFiles(thirdClip);
    await page.getByText(/^Analysis finished/).waitFor({ timeout: 45_000 });
    expect(connections).toBeGreaterThanOrEqual(2);
    expect(await page.locator('.band').textContent()).toMatch(bandWords);
    await closePage(page);
  });

  it('finds an uploaded file in the history by name, with the filters in the URL', async () => {
    const page = await signedIn('/history');
    await page.getByLabel('File name contains').fill('press-brief');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/history\?q=press-brief$/);
    await page.getByRole('link', { name: 'press-briefing.mp4' }).waitFor();
    expect(await page.getByRole('link', { name: 'harbour-interview.mp4' }).count()).toBe(0);
    expect(await accessibilityViolations(page)).toEqual([]);
    await keepScreenshot(page, 'history-search');

    await page.getByLabel('Band').selectOption('not_analyzable');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/band=not_analyzable/);
    await page.goBack();
    await page.waitForURL(/\/history\?q=press-brief$/);
    expect(await page.getByLabel('Band').inputValue()).toBe('');
    await page.getByRole('link', { name: 'press-briefing.mp4' }).waitFor();
    await closePage(page);
  });
});
