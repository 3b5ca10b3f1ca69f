// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { holderWords } from '../../web/src/pages/report/legal-hold-words.js';
import { createElement, fireEvent, renderWithApi, resetDom, screen } from './dom-harness.js';

const load = (path: string): Promise<unknown> => import(path);
const { MediaLifecycle } = (await load('../../web/src/pages/report/media-lifecycle.tsx')) as {
  MediaLifecycle: unknown;
};

const mediaId = '9e2b6e0a-2a4f-4f0e-8a77-3a0a5f1b0c33';
const me = 'a1b2c3d4-0000-4000-8000-000000000001';
const hold = {
  reason: 'case 2026-114',
  since: '2026-12-01T09:30:00.000Z',
  by: 'user:b9f00000-0000-4000-8000-000000000002',
};
const holdPath = `/api/v1/media/${mediaId}/legal-hold`;

function lifecycle(role: string, initialHold: typeof hold | null) {
  return createElement(MediaLifecycle, { mediaId, initialHold, role, userId: me });
}

const noRequests = () => {
  throw new Error('no request expected');
};

afterEach(resetDom);

describe('legal hold on the report page', () => {
  it('shows the hold to a viewer, without controls', () => {
    const sent = renderWithApi(lifecycle('viewer', hold), noRequests);
    const notice = screen.getByText(/This media is on legal hold/).parentElement as unknown as {
      textContent: string;
    };
    expect(notice?.textContent).toContain('Reason: case 2026-114');
    expect(notice?.textContent).toContain('set by an admin (user b9f00000)');
    expect(screen.queryByRole('button')).toBeNull();
    expect(sent).toEqual([]);
  });

  it('renders nothing for a viewer when there is no hold', () => {
    renderWithApi(lifecycle('viewer', null), noRequests);
    expect(screen.queryByRole('heading')).toBeNull();
  });

  it('lets an admin place a hold with a reason, then release it', async () => {
    const sent = renderWithApi(lifecycle('admin', null), (request) =>
      request.method === 'PUT'
        ? {
            status: 200,
            body: {
              mediaId,
              legalHold: { reason: 'subpoena 7', since: '2026-12-05T08:00:00.000Z', by: `user:${me}` },
            },
          }
        : { status: 204 },
    );
    expect(screen.getByText('This media is not on legal hold.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Release the legal hold' })).toBeNull();
    fireEvent.change(screen.getByLabelText('Reason for a legal hold'), {
      target: { value: '  subpoena 7 ' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Place on legal hold' }));
    expect((await screen.findByRole('status')).textContent).toBe('The media is now on legal hold.');
    expect(screen.getByText(/This media is on legal hold/).parentElement?.textContent).toContain(
      'set by you. Reason: subpoena 7.',
    );
    fireEvent.click(screen.getByRole('button', { name: 'Release the legal hold' }));
    await screen.findByText('The legal hold was released: the media can be deleted again.');
    expect(screen.getByText('This media is not on legal hold.')).toBeTruthy();
    expect(sent).toEqual([
      { method: 'PUT', path: holdPath, body: { reason: 'subpoena 7' } },
      { method: 'DELETE', path: holdPath, body: undefined },
    ]);
  });

  it('asks for a reason before placing a hold', async () => {
    const sent = renderWithApi(lifecycle('admin', null), noRequests);
    fireEvent.click(screen.getByRole('button', { name: 'Place on legal hold' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/Give a reason/);
    expect(sent).toEqual([]);
  });

  it('keeps the hold shown when releasing fails, with the problem detail', async () => {
    renderWithApi(lifecycle('admin', hold), () => ({
      status: 403,
      body: {
        status: 403,
        code: 'csrf-failed',
        title: 'Forbidden',
        detail: 'the CSRF token is missing or wrong',
      },
    }));
    fireEvent.click(screen.getByRole('button', { name: 'Release the legal hold' }));
    expect((await screen.findByRole('alert')).textContent).toBe('The CSRF token is missing or wrong.');
    expect(screen.getByText(/This media is on legal hold/)).toBeTruthy();
  });

  it('shows the legal-hold detail when deleting held media answers 409', async () => {
    const sent = renderWithApi(lifecycle('analyst', hold), () => ({
      status: 409,
      body: {
        status: 409,
        code: 'legal-hold',
        title: 'Media is on legal hold',
        detail: 'the media is on legal hold and cannot be deleted; an admin must release the hold first',
      },
    }));
    expect(screen.queryByRole('textbox')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Delete the media…' }));
    fireEvent.click(screen.getByRole('button', { name: 'Delete the media' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'The media is on legal hold and cannot be deleted; an admin must release the hold first.',
    );
    expect(screen.queryByText(/The media was deleted/)).toBeNull();
    expect(sent).toEqual([{ method: 'DELETE', path: `/api/v1/media/${mediaId}`, body: undefined }]);
  });

  it('deletes media that is not held, after a confirmation', async () => {
    const sent = renderWithApi(lifecycle('analyst', null), () => ({ status: 204 }));
    fireEvent.click(screen.getByRole('button', { name: 'Delete the media…' }));
    expect(sent).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Delete the media' }));
    expect((await screen.findByRole('status')).textContent).toMatch(/The media was deleted/);
    expect(sent).toHaveLength(1);
  });
});

describe('who set the hold', () => {
  it('names the reader, another user or an API key', () => {
    expect(holderWords(`user:${me}`, me)).toBe('you');
    expect(holderWords('api-key:0123456789abcdef', me)).toBe('an API key (01234567)');
    expect(holderWords('system', me)).toBe('system');
  });
});
