import { describe, expect, it } from 'vitest';
import { describeActor, formatDetails } from '../../web/src/account/audit-format.js';
import {
  confirmationMismatch,
  newPasswordFeedback,
  secondFactorProof,
} from '../../web/src/account/password-feedback.js';
import { groupSecret, qrDarkRuns } from '../../web/src/account/qr-modules.js';
import { recoveryCodesText } from '../../web/src/account/recovery-codes-text.js';
import { describeUserAgent } from '../../web/src/account/session-description.js';
import { tokenFromFragment } from '../../web/src/account/token-fragment.js';
import { ApiError } from '../../web/src/api/problem.js';

describe('tokenFromFragment', () => {
  const token = 'Abc_123-xyzAbc_123-xyzAbc_123-xyzAbc_123-x';
  it('reads the token of a mailed link, with or without the #', () => {
    expect(tokenFromFragment(`#token=${token}`)).toBe(token);
    expect(tokenFromFragment(`token=${token}`)).toBe(token);
    expect(tokenFromFragment(`#other=1&token=${token}`)).toBe(token);
  });
  it('refuses a missing, empty, over-long or foreign-looking token', () => {
    expect(tokenFromFragment('')).toBeNull();
    expect(tokenFromFragment('#token=')).toBeNull();
    expect(tokenFromFragment('#tok=abc')).toBeNull();
    expect(tokenFromFragment(`#token=${'a'.repeat(129)}`)).toBeNull();
    expect(tokenFromFragment('#token=<script>')).toBeNull();
    expect(tokenFromFragment('#token=a%2Fb')).toBeNull();
  });
});

describe('qrDarkRuns', () => {
  it('merges adjacent dark modules of a row and keeps rows apart', () => {
    const matrix = ['1101', '0000', '1111', '0110'];
    const runs = qrDarkRuns(4, (row, column) => matrix[row]?.[column] === '1');
    expect(runs).toEqual([
      { x: 0, y: 0, width: 2 },
      { x: 3, y: 0, width: 1 },
      { x: 0, y: 2, width: 4 },
      { x: 1, y: 3, width: 2 },
    ]);
  });
  it('covers exactly the dark modules', () => {
    const size = 21;
    const dark = (row: number, column: number) => (row * 7 + column * 3) % 5 < 2;
    const painted = new Set<string>();
    for (const run of qrDarkRuns(size, dark))
      for (let x = run.x; x < run.x + run.width; x += 1) painted.add(`${run.y},${x}`);
    for (let row = 0; row < size; row += 1)
      for (let column = 0; column < size; column += 1)
        expect(painted.has(`${row},${column}`), `${row},${column}`).toBe(dark(row, column));
  });
  it('groups a secret in fours for typing', () => {
    expect(groupSecret('JBSWY3DPEHPK3PXP')).toBe('JBSW Y3DP EHPK 3PXP');
    expect(groupSecret('ABCDEF')).toBe('ABCD EF');
    expect(groupSecret('')).toBe('');
  });
});

describe('password feedback', () => {
  it("shows the server's sentence for password-policy refusals only", () => {
    const tooCommon = new ApiError(400, { code: 'password-too-common', detail: 'this password is common' });
    expect(newPasswordFeedback(tooCommon)).toBe('This password is common.');
    expect(newPasswordFeedback(new ApiError(410, { code: 'token-expired', detail: 'gone' }))).toBeNull();
    expect(newPasswordFeedback(new Error('password-too-short'))).toBeNull();
    expect(newPasswordFeedback('The two passwords are not the same.')).toBeNull();
  });
  it('asks for the same password twice', () => {
    expect(confirmationMismatch('a passphrase', 'a passphrase')).toBeNull();
    expect(confirmationMismatch('a passphrase', 'a passphrase ')).toMatch(/not the same/);
  });
  it('tells an authenticator code from a recovery code', () => {
    expect(secondFactorProof(' 123 456 ')).toEqual({ code: '123456' });
    expect(secondFactorProof('abcd-efgh-ijkl-mnop')).toEqual({ recoveryCode: 'abcd-efgh-ijkl-mnop' });
    expect(secondFactorProof('12345')).toEqual({ recoveryCode: '12345' });
  });
});

describe('recoveryCodesText', () => {
  it('names the account and date and lists every code on its own line', () => {
    const text = recoveryCodesText(
      ['aaaa-bbbb', 'cccc-dddd'],
      'me@example.org',
      new Date(Date.UTC(2026, 0, 2)),
    );
    expect(text).toContain('Account: me@example.org');
    expect(text).toContain('Generated: 2026-01-02T00:00:00.000Z');
    expect(text.split('\n')).toEqual(expect.arrayContaining(['aaaa-bbbb', 'cccc-dddd']));
  });
});

describe('describeUserAgent', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Linux'],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0',
      'Edge on Windows',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
      'Safari on iOS',
    ],
    ['curl/8.5.0', 'curl'],
    ['something else', 'Unknown browser'],
    [null, 'Unknown browser'],
  ])('%s → %s', (userAgent, expected) => {
    expect(describeUserAgent(userAgent)).toBe(expected);
  });
});

describe('audit formatting', () => {
  const emails = new Map([['5f0c7c1e-0000-4000-8000-000000000001', 'admin@example.org']]);
  it('names a known user by email, others by a short id, and actors without id by kind', () => {
    expect(describeActor({ type: 'user', id: '5f0c7c1e-0000-4000-8000-000000000001' }, emails)).toBe(
      'User admin@example.org',
    );
    expect(describeActor({ type: 'api-key', id: '9a8b7c6d-0000-4000-8000-000000000002' }, emails)).toBe(
      'API key 9a8b7c6d',
    );
    expect(describeActor({ type: 'cli', id: null }, emails)).toBe('Command line');
  });
  it('lists details sorted by key', () => {
    expect(formatDetails({ role: 'analyst', expiresAt: null, count: 2, ok: true })).toBe(
      'count: 2, expiresAt: null, ok: true, role: analyst',
    );
    expect(formatDetails({})).toBe('');
  });
});
