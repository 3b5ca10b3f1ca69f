import { readFile } from 'node:fs/promises';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGuardian } from '../helpers/guardian-process.js';
import {
  accessibilityViolations,
  closePage,
  collectPageErrors,
  keepScreenshot,
  openPage,
} from './support/chromium.js';
import { startSiteAndBrowser, type GuardianSite, type SiteUser } from './support/guardian-site.js';

const org = 'Newsroom';
const admin: SiteUser = {
  email: 'admin@newsroom.test',
  password: 'an admin passphrase of some length',
  org,
  role: 'admin',
};
const viewer: SiteUser = {
  email: 'viewer@newsroom.test',
  password: 'a viewer passphrase of some length',
  org,
  role: 'viewer',
};
const forgetful: SiteUser = {
  email: 'forgetful@newsroom.test',
  password: 'a passphrase soon forgotten',
  org,
  role: 'analyst',
};
const invitee = { email: 'new.analyst@newsroom.test', password: 'a new analyst passphrase' };

/** The path and fragment of a mailed link, on this test's site (PUBLIC_URL may name another origin). */
function onSite(site: GuardianSite, link: string): string {
  const url = new URL(link);
  return `${site.url}${url.pathname}${url.hash}`;
}

async function expectAccessible(page: Page, screenshot: string) {
  expect(await accessibilityViolations(page), screenshot).toEqual([]);
  await keepScreenshot(page, screenshot);
}

async function signIn(page: Page, site: GuardianSite, user: { email: string; password: string }) {
  await page.goto(`${site.url}/sign-in`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A TOTP code of the time step after the current one: each code is accepted once, so steps must differ. */
const nextCode = (secret: string, stepsAhead: number) =>
  generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 * stepsAhead });

// The machine is shared: Chromium, argon2 and axe-core can be slow under load, so each step gets room.
describe('account and admin pages in Chromium', { timeout: 120_000 }, () => {
  let site: GuardianSite;
  let browser: Browser;
  let adminPage: Page;
  let adminErrors: string[];
  let secret = '';
  let recoveryCodes: string[] = [];

  beforeAll(async () => {
    [site, browser] = await startSiteAndBrowser([admin, viewer, forgetful]);
    adminPage = await openPage(browser, { acceptDownloads: true });
    adminErrors = collectPageErrors(adminPage);
  });
  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  it('an admin enrols TOTP from the QR page, keeps the recovery codes, and signs in again with a code', async () => {
    const page = adminPage;
    await signIn(page, site, admin);
    await page.waitForURL(`${site.url}/history`);
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await expectAccessible(page, 'account');

    await page.getByLabel('Password', { exact: true }).fill('not my password');
    await page.getByRole('button', { name: 'Set up two-step verification' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/password is wrong/i);
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByRole('button', { name: 'Set up two-step verification' }).click();
    await page.getByRole('img', { name: 'QR code of the authenticator key' }).waitFor();
    secret = ((await page.locator('.account-secret').textContent()) ?? '').replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    await expectAccessible(page, 'account-2fa-enrol');

    await page.getByLabel('Code from your authenticator app').fill('000000');
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/code is wrong/i);
    await page.getByLabel('Code from your authenticator app').fill(await generate({ secret }));
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
    const codeList = page.getByRole('list', { name: 'Recovery codes' });
    await codeList.waitFor();
    recoveryCodes = (await codeList.getByRole('listitem').allTextContents()).map((code) => code.trim());
    expect(recoveryCodes).toHaveLength(10);
    await expectAccessible(page, 'account-recovery-codes');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download as text' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('guardian-recovery-codes.txt');
    const saved = await readFile((await download.path()) ?? '', 'utf8');
    for (const code of recoveryCodes) expect(saved).toContain(code);
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await expect.poll(() => page.getByText('Recovery codes left: 10').count()).toBe(1);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${site.url}/sign-in`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await expectAccessible(page, 'sign-in-second-factor');
    await page.getByLabel('Code from your authenticator app').fill(await nextCode(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${site.url}/history`);
    expect(adminErrors).toEqual([]);
  });

  it('a recovery code signs in once, and the admin ends that other session from the account page', async () => {
    const other = await openPage(browser);
    await signIn(other, site, admin);
    await other.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await other.getByLabel('Recovery code').fill(recoveryCodes[0] ?? '');
    await other.getByRole('button', { name: 'Verify' }).click();
    await other.waitForURL(`${site.url}/history`);

    await adminPage.getByRole('link', { name: 'Account' }).click();
    const sessions = adminPage.getByRole('region', { name: 'Sessions' });
    await expect.poll(() => sessions.getByRole('listitem').count()).toBe(2);
    await expect.poll(() => adminPage.getByText('Recovery codes left: 9').count()).toBe(1);
    const current = sessions.getByRole('listitem').filter({ hasText: 'This session' });
    expect(await current.count()).toBe(1);
    expect(await current.getByRole('button', { name: 'End session' }).count()).toBe(0);
    await sessions
      .getByRole('listitem')
      .filter({ hasNotText: 'This session' })
      .getByRole('button', { name: 'End session' })
      .click();
    await expect.poll(() => sessions.getByRole('listitem').count()).toBe(1);

    const changed = 'a changed admin passphrase';
    await adminPage.getByLabel('Current password').fill('not my password');
    await adminPage.getByLabel('New password', { exact: true }).fill(changed);
    await adminPage.getByLabel('Repeat the new password').fill(changed);
    await adminPage.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => adminPage.getByRole('alert').textContent()).toMatch(/current password is wrong/i);
    await adminPage.getByLabel('Current password').fill(admin.password);
    await adminPage.getByRole('button', { name: 'Change password' }).click();
    await adminPage.getByText('Your password has been changed.').waitFor();
    admin.password = changed;

    await other.reload();
    await other.waitForURL(/\/sign-in\?next=%2Fhistory/);
    await other.getByLabel('Email').fill(admin.email);
    await other.getByLabel('Password').fill(admin.password);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await other.getByLabel('Recovery code').fill(recoveryCodes[0] ?? '');
    await other.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => other.getByRole('alert').textContent()).toMatch(/already used/i);
    await closePage(other);
  });

  it('the admin invites an analyst, who accepts on the link page and signs in', async () => {
    const page = adminPage;
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('cell', { name: viewer.email, exact: true }).waitFor();
    await keepScreenshot(page, 'admin-users');

    await page.getByLabel('Role of viewer@newsroom.test').selectOption('auditor');
    await page.getByRole('button', { name: 'Change role of viewer@newsroom.test' }).click();
    await expect.poll(() => page.getByLabel('Role of viewer@newsroom.test').inputValue()).toBe('auditor');

    await page.getByLabel('Email').fill(invitee.email);
    await page.getByLabel('Role', { exact: true }).selectOption('analyst');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    const link = await page.getByLabel('Invitation link').inputValue();
    expect(link).toMatch(/\/accept-invite#token=[A-Za-z0-9_-]{43}$/);
    await expectAccessible(page, 'admin-users-invited');

    const invited = await openPage(browser);
    const invitedErrors = collectPageErrors(invited);
    await invited.goto(onSite(site, link));
    await invited.getByRole('heading', { name: 'Accept the invitation' }).waitFor();
    // The token left the address bar; it is only ever sent in a POST body.
    await expect.poll(() => invited.url()).toBe(`${site.url}/accept-invite`);
    await expectAccessible(invited, 'accept-invite');
    await invited.getByLabel('Password', { exact: true }).fill('password1');
    await invited.getByLabel('Repeat the new password').fill('password1');
    await invited.getByRole('button', { name: 'Create my account' }).click();
    await expect.poll(() => invited.getByRole('alert').textContent()).toMatch(/most common/i);
    await invited.getByLabel('Password', { exact: true }).fill(invitee.password);
    await invited.getByLabel('Repeat the new password').fill(`${invitee.password} typo`);
    await invited.getByRole('button', { name: 'Create my account' }).click();
    await expect.poll(() => invited.getByRole('alert').textContent()).toMatch(/not the same/i);
    await invited.getByLabel('Repeat the new password').fill(invitee.password);
    await invited.getByRole('button', { name: 'Create my account' }).click();
    await invited.getByText(`Your account ${invitee.email} is ready, with the role analyst`).waitFor();
    await invited.getByRole('link', { name: 'Sign in' }).first().click();
    await invited.getByLabel('Email').fill(invitee.email);
    await invited.getByLabel('Password').fill(invitee.password);
    await invited.getByRole('button', { name: 'Sign in' }).click();
    await invited.waitForURL(`${site.url}/history`);
    expect(invitedErrors).toEqual([]);
    await closePage(invited);
  });

  it('a forgotten password is reset through the mailed link, and the new one signs in', async () => {
    const page = await openPage(browser);
    const errors = collectPageErrors(page);
    await page.goto(`${site.url}/reset-password`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/link .* is missing/i);
    await expectAccessible(page, 'reset-password-without-link');

    await page.getByRole('link', { name: 'Ask for a new link' }).click();
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    await keepScreenshot(page, 'forgot-password');
    await page.getByLabel('Email').fill(forgetful.email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByText('If an account uses this address, a link').waitFor();
    await expectAccessible(page, 'forgot-password-sent');

    // The mail goes out in the background; the operator reads held mail with `guardian outbox list`.
    let link: string | undefined;
    await expect
      .poll(
        async () => {
          const listed = await runGuardian(['outbox', 'list'], site.env);
          const mail = listed.stdout
            .split(/^--- /m)
            .find((entry) => entry.includes(`To: ${forgetful.email}`));
          link = /https?:\/\/\S+\/reset-password#token=[A-Za-z0-9_-]+/.exec(mail ?? '')?.[0];
          return link;
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBeDefined();

    await page.goto(onSite(site, link ?? ''));
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await expect.poll(() => page.url()).toBe(`${site.url}/reset-password`);
    await page.getByLabel('New password', { exact: true }).fill('short');
    await page.getByLabel('Repeat the new password').fill('short');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/at least 8 characters/i);
    await expect
      .poll(() => page.getByLabel('New password', { exact: true }).getAttribute('aria-invalid'))
      .toBe('true');
    await expectAccessible(page, 'reset-password');
    const newPassword = 'a freshly chosen passphrase';
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Repeat the new password').fill(newPassword);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('Your password has been changed').waitFor();
    await page.getByRole('main').getByRole('link', { name: 'Sign in' }).click();

    await page.getByLabel('Email').fill(forgetful.email);
    await page.getByLabel('Password').fill(forgetful.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/wrong/i);
    await page.getByLabel('Password').fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${site.url}/history`);
    expect(errors).toEqual([]);
    await closePage(page);
  });

  it('the admin makes and revokes an API key, requires 2FA of admins and reads the verified audit log', async () => {
    const page = adminPage;
    const adminMenu = page.getByRole('navigation', { name: 'Administration' });
    await adminMenu.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await keepScreenshot(page, 'admin-api-keys');
    await page.getByLabel('Name').fill('ingest robot');
    await page.getByLabel('Role').selectOption('analyst');
    await page.getByLabel('Expires after (days, empty: never)').fill('30');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = await page.getByLabel('New API key').inputValue();
    expect(key).toMatch(/^sag_/);
    const byKey = await fetch(`${site.url}/api/v1/audit-events`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(byKey.status).toBe(403);
    await page.getByRole('cell', { name: 'ingest robot', exact: true }).waitFor();
    // A second key, so the audit log surely holds more than one page (25 events) below.
    await page.getByLabel('Name').fill('backup robot');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('cell', { name: 'backup robot', exact: true }).waitFor();
    await expectAccessible(page, 'admin-api-keys-created');
    await page.getByRole('button', { name: 'Revoke ingest robot' }).click();
    await page.getByText(/^Revoked /).waitFor();
    const revoked = await fetch(`${site.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(revoked.status).toBe(401);

    await adminMenu.getByRole('link', { name: 'Organisation' }).click();
    const requirement = page.getByLabel('Require two-step verification for admins');
    expect(await requirement.isChecked()).toBe(false);
    await requirement.check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved: admins must now use two-step verification.').waitFor();
    await expectAccessible(page, 'admin-organisation');

    await adminMenu.getByRole('link', { name: 'Audit log' }).click();
    await page.getByText(/^Intact: every entry/).waitFor();
    const events = page.getByRole('table');
    await events.getByRole('cell', { name: 'org.settings.change' }).waitFor();
    expect(await events.getByRole('cell', { name: 'apikey.revoke' }).count()).toBe(1);
    expect(await events.getByRole('cell', { name: `User ${admin.email}` }).count()).toBeGreaterThan(0);
    await expectAccessible(page, 'admin-audit');
    const newest = await events.getByRole('row').nth(1).textContent();
    await page.getByRole('button', { name: 'Older events' }).click();
    await expect.poll(() => events.getByRole('row').nth(1).textContent()).not.toBe(newest);
    await page.getByRole('button', { name: 'Newer events' }).click();
    await expect.poll(() => events.getByRole('row').nth(1).textContent()).toBe(newest);

    await page.setViewportSize({ width: 360, height: 740 });
    for (const section of ['Users', 'Audit log']) {
      await adminMenu.getByRole('link', { name: section }).click();
      await page.getByRole('heading', { name: section, level: 1 }).waitFor();
      const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow, section).toBeLessThanOrEqual(0);
    }
    await keepScreenshot(page, 'admin-audit-360px');
    expect(adminErrors).toEqual([]);
  });

  it('an admin without 2FA, once the organisation requires it, reaches only the enrolment page', async () => {
    const late = { email: 'late.admin@newsroom.test', password: 'a late admin passphrase' };
    const created = await runGuardian(
      ['user', 'create', '--email', late.email, '--org', org, '--role', 'admin'],
      site.env,
      { input: `${late.password}\n` },
    );
    expect(created.code, created.stderr).toBe(0);
    const page = await openPage(browser);
    const errors = collectPageErrors(page);
    await signIn(page, site, late);
    await page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
    await expectAccessible(page, 'enrolment-required');
    await page.goto(`${site.url}/history`);
    await page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
    expect(await page.getByRole('link', { name: 'History' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(errors).toEqual([]);
    await closePage(page);
  });

  it('someone who is not an admin sees "Not allowed" on every admin page', async () => {
    const page = await openPage(browser);
    await signIn(page, site, viewer);
    await page.waitForURL(`${site.url}/history`);
    expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    for (const path of ['/admin/users', '/admin/api-keys', '/admin/organisation', '/admin/audit']) {
      await page.goto(`${site.url}${path}`);
      await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    }
    await expectAccessible(page, 'admin-not-allowed');
    await closePage(page);
  });
});
