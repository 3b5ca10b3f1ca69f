import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';

const production = { NODE_ENV: 'production', MASTER_KEY: 'ab'.repeat(32) };

describe('mail configuration', () => {
  it('normalises PUBLIC_URL and refuses anything but http(s)', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://guardian.example.org/' }).PUBLIC_URL).toBe(
      'https://guardian.example.org',
    );
    expect(loadConfig({ PUBLIC_URL: '' }).PUBLIC_URL).toBeUndefined();
    expect(() => loadConfig({ PUBLIC_URL: 'javascript:alert(1)' })).toThrow(/PUBLIC_URL/);
  });

  it('in production with SMTP requires an https PUBLIC_URL and MAIL_FROM', () => {
    const smtp = { ...production, SMTP_URL: 'smtps://mail.example.org' };
    expect(() => loadConfig(smtp)).toThrow(/PUBLIC_URL[\s\S]*MAIL_FROM/);
    expect(() =>
      loadConfig({ ...smtp, PUBLIC_URL: 'http://guardian.example.org', MAIL_FROM: 'a@b.c' }),
    ).toThrow(/PUBLIC_URL: production with SMTP_URL/);
    const config = loadConfig({
      ...smtp,
      PUBLIC_URL: 'https://guardian.example.org',
      MAIL_FROM: 'Guardian <guardian@example.org>',
    });
    expect(config.SMTP_URL).toBe('smtps://mail.example.org');
    // Without SMTP, mail stays in the outbox: nothing more is required.
    expect(loadConfig(production).SMTP_URL).toBeUndefined();
  });
});
