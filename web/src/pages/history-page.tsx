import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { useApi } from '../api/api-context';
import type { operations } from '../api/schema';
import { BandLabel } from '../components/band-label';
import { bandWords, type Band } from '../components/band-words';
import { ErrorMessage } from '../components/error-message';
import { Page } from '../components/page';
import { useMe } from '../session/session-context';
import { formatBytes } from './upload/file-checks';
import {
  apiQuery,
  dateRangeProblem,
  filtersToSearch,
  readFilters,
  type HistoryFilters,
} from './history/history-filters';

type MediaHistoryPage = operations['getMedia']['responses'][200]['content']['application/json'];
type MediaHistoryItem = MediaHistoryPage['items'][number];

const statusWords = { queued: 'Queued', running: 'Running', done: 'Done', failed: 'Failed' } as const;

export default function HistoryPage() {
  const api = useApi();
  const search = useSearch();
  const filters = readFilters(search);
  const [, navigate] = useLocation();
  const [page, setPage] = useState<MediaHistoryPage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const rangeProblem = dateRangeProblem(filters);

  useEffect(() => {
    if (rangeProblem) return;
    let current = true;
    setPage(null);
    setError(null);
    api
      .unwrap(api.client.GET('/api/v1/media', { params: { query: apiQuery(readFilters(search)) } }))
      .then((found) => current && setPage(found))
      .catch((failure: unknown) => current && setError(failure));
    return () => {
      current = false;
    };
  }, [api, search, rangeProblem]);

  const apply = (next: HistoryFilters) => navigate(`/history${filtersToSearch({ ...next, cursor: '' })}`);

  return (
    <Page title="History" wide>
      <p>
        <Link href="/upload">Upload files</Link>
      </p>
      {/* Keyed on the URL, so going back restores the fields together with the list. */}
      <FilterForm key={search} filters={filters} uploaders={uploadersOf(page)} onApply={apply} />
      <ErrorMessage error={rangeProblem ?? error} />
      {!page && !error && !rangeProblem && <p role="status">Loading…</p>}
      {page && <MediaTable items={page.items} />}
      <nav aria-label="Pages" className="history-pages">
        {filters.cursor && (
          <Link href={`/history${filtersToSearch({ ...filters, cursor: '' })}`}>First page</Link>
        )}
        {page?.nextCursor && (
          <Link href={`/history${filtersToSearch({ ...filters, cursor: page.nextCursor })}`}>Next page</Link>
        )}
      </nav>
    </Page>
  );
}

function uploadersOf(page: MediaHistoryPage | null): Map<string, string> {
  const seen = new Map<string, string>();
  for (const item of page?.items ?? []) {
    if (item.uploader) seen.set(item.uploader.id, item.uploader.label ?? 'Deleted account');
  }
  return seen;
}

function FilterForm({
  filters,
  uploaders,
  onApply,
}: {
  filters: HistoryFilters;
  uploaders: Map<string, string>;
  onApply(filters: HistoryFilters): void;
}) {
  const me = useMe();
  const [draft, setDraft] = useState(filters);
  const set = (change: Partial<HistoryFilters>) => setDraft((current) => ({ ...current, ...change }));
  const choices = new Map(uploaders);
  choices.set(me.user.id, `Me (${me.user.email})`);
  if (filters.uploader && !choices.has(filters.uploader))
    choices.set(filters.uploader, 'The chosen uploader');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(draft);
  };
  return (
    <form className="history-filters" onSubmit={submit} role="search" aria-label="Filter the history">
      <div className="history-field history-field-wide">
        <label htmlFor="history-q">File name contains</label>
        <input
          id="history-q"
          type="search"
          maxLength={255}
          value={draft.q}
          onChange={(e) => set({ q: e.target.value })}
        />
      </div>
      <div className="history-field">
        <label htmlFor="history-band">Band</label>
        <select
          id="history-band"
          value={draft.band}
          onChange={(e) => set({ band: e.target.value as Band | '' })}
        >
          <option value="">Any band</option>
          {Object.entries(bandWords).map(([band, words]) => (
            <option key={band} value={band}>
              {words}
            </option>
          ))}
        </select>
      </div>
      <div className="history-field">
        <label htmlFor="history-status">Analysis status</label>
        <select
          id="history-status"
          value={draft.status}
          onChange={(e) => set({ status: e.target.value as HistoryFilters['status'] })}
        >
          <option value="">Any status</option>
          {Object.entries(statusWords).map(([status, words]) => (
            <option key={status} value={status}>
              {words}
            </option>
          ))}
        </select>
      </div>
      <div className="history-field">
        <label htmlFor="history-from">Uploaded from</label>
        <input
          id="history-from"
          type="date"
          value={draft.from}
          onChange={(e) => set({ from: e.target.value })}
        />
      </div>
      <div className="history-field">
        <label htmlFor="history-to">Uploaded until</label>
        <input id="history-to" type="date" value={draft.to} onChange={(e) => set({ to: e.target.value })} />
      </div>
      <div className="history-field">
        <label htmlFor="history-uploader">Uploaded by</label>
        <select
          id="history-uploader"
          value={draft.uploader}
          onChange={(e) => set({ uploader: e.target.value })}
        >
          <option value="">Anyone</option>
          {[...choices].map(([id, label]) => (
            <option key={id} value={id}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div className="history-buttons">
        <button type="submit">Search</button>
        <button type="button" className="secondary" onClick={() => onApply({ ...filters, ...clearAll })}>
          Clear filters
        </button>
      </div>
    </form>
  );
}

const clearAll = { q: '', band: '', status: '', from: '', to: '', uploader: '', cursor: '' } as const;

function MediaTable({ items }: { items: MediaHistoryItem[] }) {
  if (items.length === 0) return <p>No files match these filters.</p>;
  return (
    <div className="table-scroll">
      <table>
        <caption className="visually-hidden">Uploaded files, newest first</caption>
        <thead>
          <tr>
            <th scope="col">File</th>
            <th scope="col">Result</th>
            <th scope="col">Uploaded</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id}>
              <td>
                {item.latestAnalysis ? (
                  <Link href={`/analyses/${item.latestAnalysis.id}`}>
                    {item.originalFilename ?? 'Unnamed file'}
                  </Link>
                ) : (
                  (item.originalFilename ?? 'Unnamed file')
                )}
                {item.legalHold && (
                  <>
                    {' '}
                    <span className="badge" title="On legal hold: it cannot be deleted">
                      Legal hold
                    </span>
                  </>
                )}
                <br />
                <span className="muted">{formatBytes(item.sizeBytes)}</span>
              </td>
              <td>
                {item.latestAnalysis?.band ? (
                  <BandLabel band={item.latestAnalysis.band} />
                ) : (
                  (statusWords[item.latestAnalysis?.status ?? 'queued'] ?? '')
                )}
              </td>
              <td>
                <time dateTime={item.createdAt}>{new Date(item.createdAt).toLocaleString()}</time>
              </td>
              <td>{item.uploader?.label ?? 'Unknown'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
