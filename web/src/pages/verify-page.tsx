import { useCallback, useEffect, useRef, useState, type DragEvent } from 'react';
import { Link, useSearch } from 'wouter';
import { useApi } from '../api/api-context';
import { ErrorMessage } from '../components/error-message';
import {
  bundleFacts,
  explainCheck,
  isCanonicalForm,
  parseLeafQuery,
  statementDigests,
  verdictSentence,
  verifyBodyLimitBytes,
  verifyRequestBody,
  type BundleFacts,
  type ExplainedCheck,
  type Verification,
} from '../components/evidence-verification';
import { VerifyCheckList } from '../components/evidence-check-list';
import { formatBytes, hashFileSha256, HashCancelledError } from '../components/media-file-hasher';
import { Page } from '../components/page';
import type { paths } from '../api/schema';

type InclusionLookup =
  paths['/api/v1/log/proofs/inclusion']['get']['responses'][200]['content']['application/json'];

interface LoadedBundle {
  name: string;
  text: string;
  /** undefined when the text is not JSON. */
  parsed: unknown;
  facts: BundleFacts;
}

type MediaState =
  | { status: 'none' }
  | { status: 'hashing'; name: string; bytesHashed: number; totalBytes: number }
  | { status: 'hashed'; name: string; sha256: string }
  | { status: 'cancelled'; name: string }
  | { status: 'error'; name: string };

type ServerResult =
  { status: 'idle' } | { status: 'checking' } | { status: 'done'; verification: Verification };

export default function VerifyPage() {
  const api = useApi();
  const leafQuery = parseLeafQuery(useSearch());
  const [bundle, setBundle] = useState<LoadedBundle | null>(null);
  const [bundleError, setBundleError] = useState<string | null>(null);
  const [media, setMedia] = useState<MediaState>({ status: 'none' });
  const [trustSiteKeys, setTrustSiteKeys] = useState(true);
  const [result, setResult] = useState<ServerResult>({ status: 'idle' });
  const [error, setError] = useState<unknown>(null);
  const hashing = useRef<AbortController | null>(null);

  useEffect(() => () => hashing.current?.abort(), []);

  const chooseBundle = useCallback(async (file: File) => {
    setResult({ status: 'idle' });
    setError(null);
    setBundleError(null);
    if (file.size > verifyBodyLimitBytes - 4096) {
      setBundle(null);
      setBundleError(
        `This file is ${formatBytes(file.size)}: larger than any evidence bundle this site checks.`,
      );
      return;
    }
    const text = await file.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      parsed = undefined;
    }
    setBundle({ name: file.name, text, parsed, facts: bundleFacts(parsed) });
  }, []);

  const chooseMedia = useCallback(async (file: File) => {
    hashing.current?.abort();
    const controller = new AbortController();
    hashing.current = controller;
    setMedia({ status: 'hashing', name: file.name, bytesHashed: 0, totalBytes: file.size });
    try {
      const sha256 = await hashFileSha256(file, {
        signal: controller.signal,
        onProgress: ({ bytesHashed, totalBytes }) =>
          setMedia({ status: 'hashing', name: file.name, bytesHashed, totalBytes }),
      });
      setMedia({ status: 'hashed', name: file.name, sha256 });
    } catch (cause) {
      if (hashing.current !== controller) return; // a newer file replaced this one
      setMedia({ status: cause instanceof HashCancelledError ? 'cancelled' : 'error', name: file.name });
    }
  }, []);

  const chooseDropped = (files: FileList) => {
    for (const file of Array.from(files)) {
      const isJson = file.type === 'application/json' || file.name.toLowerCase().endsWith('.json');
      void (isJson ? chooseBundle(file) : chooseMedia(file));
    }
  };

  const checkBundle = async () => {
    if (!bundle) return;
    setError(null);
    if (bundle.parsed === undefined) {
      setResult({ status: 'done', verification: notJson() });
      return;
    }
    setResult({ status: 'checking' });
    try {
      const trustedKeyIds = trustSiteKeys
        ? (await api.unwrap(api.client.GET('/api/v1/log/keys'))).keys.map((key) => key.keyId)
        : [];
      const body = verifyRequestBody(bundle.text, trustedKeyIds);
      const verification = await api.unwrap(
        api.client.POST('/api/v1/verify', {
          // The bundle goes to the server as the file's exact text, not re-serialised by this page.
          body: { bundle: null },
          bodySerializer: () => body,
          headers: { 'content-type': 'application/json' },
        }),
      );
      setResult({ status: 'done', verification });
    } catch (cause) {
      setResult({ status: 'idle' });
      setError(cause);
    }
  };

  return (
    <Page title="Verify an evidence bundle">
      <p>
        Check an evidence bundle downloaded from an analysis: its signatures, its place in the transparency
        log, and, if you add the media file, that the report is about that file. The media file is hashed in
        this browser and never uploaded; the bundle is sent to this site to be checked.
      </p>
      {leafQuery && (
        <LeafLookup leafIndex={leafQuery.leafIndex} statementSha256={leafQuery.statementSha256} />
      )}
      <section aria-labelledby="verify-files-heading">
        <h2 id="verify-files-heading">Files</h2>
        <div
          className="verify-drop-zone"
          onDragOver={(event) => event.preventDefault()}
          onDrop={(event: DragEvent) => {
            event.preventDefault();
            chooseDropped(event.dataTransfer.files);
          }}
          data-testid="verify-drop-zone"
        >
          <p>Drop the bundle (.json) and the media file here, or choose them:</p>
          <div className="form">
            <label htmlFor="verify-bundle">Evidence bundle (JSON)</label>
            <input
              id="verify-bundle"
              type="file"
              accept="application/json,.json"
              onChange={(event) => {
                const file = event.target.files?.[0];
                if (file) void chooseBundle(file);
              }}
            />
            <label htmlFor="verify-media">Media file (optional, stays on this device)</label>
            <input
              id="verify-media"
              type="file"
              onChange={(event) => {
                const file = event.target.files?.[0];
                if (file) void chooseMedia(file);
              }}
            />
            <div className="verify-trust">
              <input
                id="verify-trust"
                type="checkbox"
                checked={trustSiteKeys}
                onChange={(event) => {
                  setTrustSiteKeys(event.target.checked);
                  setResult({ status: 'idle' });
                }}
              />
              <label htmlFor="verify-trust">Check against this site&apos;s published log keys</label>
            </div>
          </div>
        </div>
        <ChosenFiles bundle={bundle} media={media} onCancel={() => hashing.current?.abort()} />
        <ErrorMessage error={bundleError} />
        <button
          type="button"
          disabled={!bundle || result.status === 'checking'}
          onClick={() => void checkBundle()}
        >
          {result.status === 'checking' ? 'Checking…' : 'Check the bundle'}
        </button>
        <ErrorMessage error={error} />
      </section>
      {result.status === 'done' && bundle && (
        <Results verification={result.verification} bundle={bundle} media={media} leafQuery={leafQuery} />
      )}
      <section aria-labelledby="verify-proves-heading">
        <h2 id="verify-proves-heading">What a verified bundle proves, and what it does not</h2>
        <p>
          It proves that this report belongs to this file, that the deployment holding the log key signed it,
          and that the signed statement is an entry of its append-only transparency log.
        </p>
        <p>
          It does not prove that the media is unaltered: it shows the report was not changed, not that the
          report is right. The times in it come from the server&apos;s own clock, and without a trusted key
          anyone can make a self-consistent bundle.{' '}
          <Link href="/help#verification">More on verification</Link>
        </p>
      </section>
    </Page>
  );
}

function notJson(): Verification {
  return {
    ok: false,
    complete: false,
    checks: [{ name: 'bundle-format', status: 'failed', detail: 'the file is not JSON' }],
  };
}

function ChosenFiles({
  bundle,
  media,
  onCancel,
}: {
  bundle: LoadedBundle | null;
  media: MediaState;
  onCancel: () => void;
}) {
  if (!bundle && media.status === 'none') return null;
  return (
    <ul className="verify-chosen" aria-label="Chosen files">
      {bundle && (
        <li>
          Bundle: {bundle.name}
          {bundle.parsed === undefined && ' (not JSON)'}
        </li>
      )}
      {media.status !== 'none' && (
        <li>
          Media: {media.name} — <MediaStatus media={media} onCancel={onCancel} />
        </li>
      )}
    </ul>
  );
}

function MediaStatus({ media, onCancel }: { media: MediaState; onCancel: () => void }) {
  switch (media.status) {
    case 'hashing': {
      const percent = media.totalBytes === 0 ? 100 : Math.floor((media.bytesHashed / media.totalBytes) * 100);
      return (
        <>
          <label htmlFor="verify-hash-progress">Hashing in this browser</label>{' '}
          <progress id="verify-hash-progress" max={100} value={percent}>
            {percent}%
          </progress>{' '}
          <span>
            {formatBytes(media.bytesHashed)} of {formatBytes(media.totalBytes)}
          </span>{' '}
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel hashing
          </button>
        </>
      );
    }
    case 'hashed':
      return (
        <span>
          SHA-256 <code className="verify-hash">{media.sha256}</code>
        </span>
      );
    case 'cancelled':
      return <>hashing cancelled; choose the file again to check it.</>;
    case 'error':
      return <>the file could not be read; choose it again.</>;
    default:
      return null;
  }
}

function Results({
  verification,
  bundle,
  media,
  leafQuery,
}: {
  verification: Verification;
  bundle: LoadedBundle;
  media: MediaState;
  leafQuery: { leafIndex: number; statementSha256: string } | null;
}) {
  const lookup = useLeafHash(leafQuery?.leafIndex ?? null);
  const checks: ExplainedCheck[] = [];
  for (const check of verification.checks) {
    if (check.name === 'media-hash') continue;
    checks.push(explainCheck(check));
    if (check.name === 'bundle-format' && bundle.parsed !== undefined) {
      const canonical = isCanonicalForm(bundle.text, bundle.parsed);
      checks.push(
        explainCheck(
          {
            name: 'canonical-form',
            status: canonical ? 'passed' : 'failed',
            detail: canonical
              ? 'the file is its own RFC 8785 canonical JSON'
              : 'the RFC 8785 canonical JSON of the contents differs from the file',
          },
          'browser',
        ),
      );
    }
  }
  const mediaCheck = localMediaCheck(media, bundle.facts);
  if (mediaCheck) checks.push(mediaCheck);
  if (leafQuery) checks.push(...leafChecks(leafQuery, bundle.facts, lookup));
  const verdict = verdictSentence(checks);
  const waiting = media.status === 'hashing' || (leafQuery !== null && lookup.status === 'loading');
  return (
    <section aria-labelledby="verify-results-heading">
      <h2 id="verify-results-heading">Result</h2>
      <p
        role="status"
        className={waiting ? 'notice' : verdict.ok ? 'verify-verdict-ok' : 'verify-verdict-failed'}
      >
        {waiting ? 'Still hashing the media file; the result appears when it is done.' : verdict.sentence}
      </p>
      <VerifyCheckList checks={checks} pendingMedia={media.status === 'hashing'} />
    </section>
  );
}

function localMediaCheck(media: MediaState, facts: BundleFacts): ExplainedCheck | null {
  const statement = facts.mediaSha256 ?? 'unknown (the bundle names no media hash)';
  if (media.status === 'hashing') return null;
  if (media.status !== 'hashed')
    return explainCheck(
      {
        name: 'media-hash',
        status: 'not-checked',
        detail: `the statement is about a file with SHA-256 ${statement}`,
      },
      'browser',
    );
  const matches = media.sha256 === facts.mediaSha256;
  return explainCheck(
    {
      name: 'media-hash',
      status: matches ? 'passed' : 'failed',
      detail: `your file's SHA-256 is ${media.sha256}; the statement is about ${statement}`,
    },
    'browser',
  );
}

type LeafHashState =
  | { status: 'loading' }
  | { status: 'found'; lookup: InclusionLookup }
  | { status: 'missing'; error: unknown };

/** The public log's leaf hash at an index (the smallest tree holding it: a lookup, not a proof against a head). */
function useLeafHash(leafIndex: number | null): LeafHashState {
  const api = useApi();
  const [state, setState] = useState<LeafHashState>({ status: 'loading' });
  useEffect(() => {
    if (leafIndex === null) return;
    let live = true;
    setState({ status: 'loading' });
    api
      .unwrap(
        api.client.GET('/api/v1/log/proofs/inclusion', {
          params: { query: { leafIndex, treeSize: leafIndex + 1 } },
        }),
      )
      .then(
        (lookup) => live && setState({ status: 'found', lookup }),
        (error: unknown) => live && setState({ status: 'missing', error }),
      );
    return () => {
      live = false;
    };
  }, [api, leafIndex]);
  return state;
}

function leafChecks(
  query: { leafIndex: number; statementSha256: string },
  facts: BundleFacts,
  lookup: LeafHashState,
): ExplainedCheck[] {
  const digests = statementDigests(facts.statement);
  const named = facts.leafIndex === query.leafIndex && digests?.statementSha256 === query.statementSha256;
  const pdfCheck: ExplainedCheck = {
    name: 'report-link',
    title: 'The bundle is the one the PDF report names',
    status: named ? 'passed' : 'failed',
    reason: named
      ? 'The bundle is log entry number ' +
        String(query.leafIndex) +
        ' and its statement has the SHA-256 printed on the report.'
      : 'The bundle is not the one the PDF report links to: its log entry number or statement SHA-256 differs.',
    detail: `the link names entry ${query.leafIndex}, statement SHA-256 ${query.statementSha256}; the bundle is entry ${facts.leafIndex ?? 'unknown'}, statement SHA-256 ${digests?.statementSha256 ?? 'not computable'}`,
    where: 'browser',
  };
  const logCheck: ExplainedCheck =
    lookup.status === 'found'
      ? {
          name: 'log-entry',
          title: 'The statement is entry ' + String(query.leafIndex) + " of this site's log",
          status: lookup.lookup.leafHash === digests?.leafHash ? 'passed' : 'failed',
          reason:
            lookup.lookup.leafHash === digests?.leafHash
              ? "This site's public log holds exactly this statement at that position."
              : "This site's public log holds a different statement at that position.",
          detail: `the log's leaf hash is ${lookup.lookup.leafHash}; the bundle's statement hashes to ${digests?.leafHash ?? 'nothing'}`,
          where: 'browser',
        }
      : {
          name: 'log-entry',
          title: 'The statement is entry ' + String(query.leafIndex) + " of this site's log",
          status: 'not-checked',
          reason: "This site's log could not be asked about that entry.",
          detail: lookup.status === 'missing' ? String((lookup.error as Error).message) : 'still asking',
          where: 'browser',
        };
  return [pdfCheck, logCheck];
}

function LeafLookup({ leafIndex, statementSha256 }: { leafIndex: number; statementSha256: string }) {
  const lookup = useLeafHash(leafIndex);
  return (
    <section aria-labelledby="verify-leaf-heading" className="card">
      <h2 id="verify-leaf-heading">The report you scanned</h2>
      <dl className="verify-facts">
        <dt>Log entry number</dt>
        <dd>{leafIndex}</dd>
        <dt>Statement SHA-256 printed on the report</dt>
        <dd>
          <code className="verify-hash">{statementSha256}</code>
        </dd>
      </dl>
      {lookup.status === 'loading' && <p role="status">Looking up the entry in this site&apos;s log…</p>}
      {lookup.status === 'found' && (
        <p role="status">
          This site&apos;s transparency log has an entry number {leafIndex}, with leaf hash{' '}
          <code className="verify-hash">{lookup.lookup.leafHash}</code>. That shows the entry exists; it does
          not yet show that it is the statement printed on the report.
        </p>
      )}
      {lookup.status === 'missing' && <ErrorMessage error={lookup.error} />}
      <p>
        <strong>To check fully, drop or choose the evidence bundle of this analysis below</strong> (and the
        media file, if you have it): the page then checks that the bundle&apos;s statement has the SHA-256
        printed on the report and is this entry of the log.
      </p>
    </section>
  );
}
