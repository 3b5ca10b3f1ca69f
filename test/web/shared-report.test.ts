import { describe, expect, it } from 'vitest';
import { readReport, type AnalysisView } from '../../web/src/pages/report/report-shape.js';
import { sharedReportFailure, shareStatusWords } from '../../web/src/pages/report/share-wording.js';

const analysis = {
  id: '6f1c1a52-3a53-4d5e-9c44-0d6f4e1d2b10',
  mediaId: '9e2b6e0a-2a4f-4f0e-8a77-3a0a5f1b0c33',
  status: 'done',
  progress: 100,
  stage: null,
  pipelineVersion: 'test',
  band: 'inconclusive',
  reasons: ['a reason'],
  detectors: [],
  coverage: 0.5,
  versions: null,
  error: null,
  createdAt: '2026-12-05T04:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  report: {
    band: 'inconclusive',
    reasons: ['a reason'],
    detectors: [],
    coverage: 0.5,
    compression: {
      kind: 'video',
      codec: 'h264',
      profile: null,
      width: 160,
      height: 120,
      bitrate: 200_000,
      frameRate: 10,
      bitRatePerPixelPerFrame: 1,
      gopLength: 10,
      bFrames: false,
      reencodeEvidence: 'none',
      forensicSignal: 'high',
      forensicSignalReason: null,
    },
    media: { durationSeconds: 1 },
  },
} as unknown as AnalysisView;

// Loaded at run time, typed loosely here: the root tsconfig has no JSX, and React's types would pull the DOM
// library into every Node test it type-checks.
type Element = { readonly element: unique symbol };
const load = (path: string): Promise<unknown> => import(path);
const { createElement } = (await load('react')) as {
  createElement(type: unknown, props: Record<string, unknown>, ...children: Element[]): Element;
};
const { renderToStaticMarkup } = (await load('react-dom/server')) as {
  renderToStaticMarkup(element: Element): string;
};
const { ApiContext } = (await load('../../web/src/api/api-context.tsx')) as {
  ApiContext: { Provider: unknown };
};
const { FinishedReport } = (await load('../../web/src/pages/report/finished-report.tsx')) as {
  FinishedReport: unknown;
};

// Any call to the API fails the test: a shared report must render from what the share link returned.
const noApi = new Proxy(
  {},
  {
    get: () => {
      throw new Error('the shared report called the API');
    },
  },
);

function renderShared(mediaUrl: string | null): string {
  const report = readReport(analysis);
  expect(report).not.toBeNull();
  return renderToStaticMarkup(
    createElement(
      ApiContext.Provider,
      { value: noApi },
      createElement(FinishedReport, { analysis, report: report!, shared: { mediaUrl, artifacts: [] } }),
    ),
  );
}

describe('the shared report page', () => {
  it('plays the media from the signed link and offers no downloads, re-runs or share panel', () => {
    const signed = '/api/v1/signed/media/9e2b6e0a-2a4f-4f0e-8a77-3a0a5f1b0c33/content?org=o&exp=1&sig=s';
    const html = renderShared(signed);
    expect(html).toContain(`src="${signed.replaceAll('&', '&amp;')}"`);
    expect(html).not.toContain('/api/v1/media/');
    expect(html).not.toContain('Downloads');
    expect(html).not.toContain('id="report-share"');
    expect(html).toContain('a reason');
  });

  it('shows no player when the media was not shared', () => {
    expect(renderShared(null)).not.toContain('<video');
  });

  it('explains each refusal by its stable code', () => {
    expect(sharedReportFailure('share-link-expired')).toMatch(/expired/);
    expect(sharedReportFailure('share-link-revoked')).toMatch(/withdrawn/);
    expect(sharedReportFailure('share-link-invalid')).toMatch(/not valid/);
    expect(sharedReportFailure(undefined)).toMatch(/could not be loaded/);
    expect(shareStatusWords({ status: 'revoked', includeMedia: true })).toBe('revoked (report and media)');
  });
});
