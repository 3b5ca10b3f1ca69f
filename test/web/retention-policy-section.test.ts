// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { readRetentionChoice, retentionPolicyWords } from '../../web/src/pages/admin/retention-policy.js';
import {
  createElement,
  fireEvent,
  renderWithApi,
  resetDom,
  screen,
  type SentRequest,
} from './dom-harness.js';

const load = (path: string): Promise<unknown> => import(path);
const { RetentionPolicySection } = (await load('../../web/src/pages/admin/retention-policy-section.tsx')) as {
  RetentionPolicySection: unknown;
};

const policyPath = '/api/v1/organisation/retention-policy';
const puts = (sent: SentRequest[]) => sent.filter((request) => request.method === 'PUT');

afterEach(resetDom);

describe('retention policy form (organisation page)', () => {
  it('reads the policy, explains it, and saves a number of days', async () => {
    let stored: number | null = null;
    const sent = renderWithApi(createElement(RetentionPolicySection, null), (request) => {
      if (request.method === 'PUT')
        stored = (request.body as { mediaRetentionDays: number | null }).mediaRetentionDays;
      return {
        status: 200,
        body: { mediaRetentionDays: stored, updatedAt: stored === null ? null : '2026-12-05T08:00:00.000Z' },
      };
    });
    expect((await screen.findByText(/kept until someone deletes it/)).textContent).toContain('Now:');
    expect(screen.getByText(/Reports and audit entries are\s+kept/).textContent).toContain('legal hold');
    fireEvent.click(screen.getByLabelText('For a number of days after upload'));
    fireEvent.change(screen.getByLabelText(/Days to keep media/), { target: { value: '30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save retention policy' }));
    expect((await screen.findByRole('status')).textContent).toBe(
      'Saved. Uploaded media is crypto-shredded 30 days after upload.',
    );
    expect(puts(sent)).toEqual([{ method: 'PUT', path: policyPath, body: { mediaRetentionDays: 30 } }]);
  });

  it('saves "keep until deleted" as null', async () => {
    const sent = renderWithApi(createElement(RetentionPolicySection, null), (request) => ({
      status: 200,
      body: { mediaRetentionDays: request.method === 'PUT' ? null : 90, updatedAt: null },
    }));
    await screen.findByText(/crypto-shredded 90 days after upload/);
    fireEvent.click(screen.getByLabelText('Until someone deletes it'));
    expect(screen.getByLabelText(/Days to keep media/).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Save retention policy' }));
    await screen.findByText('Saved. Uploaded media is kept until someone deletes it.');
    expect(puts(sent).map((request) => request.body)).toEqual([{ mediaRetentionDays: null }]);
  });

  it('shows the problem detail when the server refuses', async () => {
    renderWithApi(createElement(RetentionPolicySection, null), (request) =>
      request.method === 'PUT'
        ? {
            status: 403,
            body: {
              status: 403,
              code: 'forbidden',
              title: 'Forbidden',
              detail: 'only admins may change the retention policy',
            },
          }
        : { status: 200, body: { mediaRetentionDays: 7, updatedAt: '2026-12-01T00:00:00.000Z' } },
    );
    await screen.findByText(/crypto-shredded 7 days after upload/);
    fireEvent.click(screen.getByRole('button', { name: 'Save retention policy' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Only admins may change the retention policy.',
    );
    expect(screen.queryByRole('status')).toBeNull();
  });

  it('refuses out-of-range days without asking the server', async () => {
    const sent = renderWithApi(createElement(RetentionPolicySection, null), () => ({
      status: 200,
      body: { mediaRetentionDays: 7, updatedAt: null },
    }));
    await screen.findByText(/crypto-shredded 7 days/);
    fireEvent.change(screen.getByLabelText(/Days to keep media/), { target: { value: '36501' } });
    fireEvent.submit(screen.getByRole('button', { name: 'Save retention policy' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/from 1 to 36 500/);
    expect(puts(sent)).toEqual([]);
  });

  it('shows a load failure instead of the form', async () => {
    renderWithApi(createElement(RetentionPolicySection, null), () => ({
      status: 503,
      body: { status: 503, code: 'unavailable', title: 'Service Unavailable' },
    }));
    expect((await screen.findByRole('alert')).textContent).toBe('Service Unavailable.');
    expect(screen.queryByRole('button', { name: 'Save retention policy' })).toBeNull();
  });
});

describe('retention choice parsing', () => {
  it('accepts whole days within 1 to 36 500 and null for keep', () => {
    expect(readRetentionChoice('forever', 'anything')).toEqual({ mediaRetentionDays: null });
    expect(readRetentionChoice('days', ' 1 ')).toEqual({ mediaRetentionDays: 1 });
    expect(readRetentionChoice('days', '36500')).toEqual({ mediaRetentionDays: 36500 });
    for (const bad of ['', '0', '36501', '1.5', '-3', '1e3', 'ten'])
      expect(readRetentionChoice('days', bad)).toHaveProperty('problem');
    expect(retentionPolicyWords(1)).toBe('Uploaded media is crypto-shredded 1 day after upload.');
  });
});
