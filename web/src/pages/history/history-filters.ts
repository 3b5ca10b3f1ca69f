import { bandWords, type Band } from '../../components/band-words.js';
import type { operations } from '../../api/schema.js';

/** The query of GET /api/v1/media (generated from openapi.json). */
export type MediaListQuery = NonNullable<operations['getMedia']['parameters']['query']>;
type AnalysisStatus = NonNullable<MediaListQuery['status']>;

/** The history's filters as they stand in the page's URL (shareable; the back button restores them). */
export interface HistoryFilters {
  q: string;
  band: Band | '';
  status: AnalysisStatus | '';
  /** YYYY-MM-DD, local days, both inclusive. */
  from: string;
  to: string;
  uploader: string;
  cursor: string;
}

export const noFilters: HistoryFilters = {
  q: '',
  band: '',
  status: '',
  from: '',
  to: '',
  uploader: '',
  cursor: '',
};

const statuses: readonly AnalysisStatus[] = ['queued', 'running', 'done', 'failed'];
const day = /^\d{4}-\d{2}-\d{2}$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads the filters from a query string; a value that is not valid is ignored rather than sent. */
export function readFilters(search: string): HistoryFilters {
  const params = new URLSearchParams(search);
  const get = (name: string) => params.get(name)?.trim() ?? '';
  const band = get('band');
  const status = get('status');
  return {
    q: get('q').slice(0, 255),
    band: Object.hasOwn(bandWords, band) ? (band as Band) : '',
    status: statuses.includes(status as AnalysisStatus) ? (status as AnalysisStatus) : '',
    from: day.test(get('from')) ? get('from') : '',
    to: day.test(get('to')) ? get('to') : '',
    uploader: uuid.test(get('uploader')) ? get('uploader') : '',
    cursor: get('cursor').slice(0, 400),
  };
}

/** The page's query string for these filters, without the empty ones (`?` included, or ''). */
export function filtersToSearch(filters: HistoryFilters): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * The API query for these filters: days become instants at this browser's local midnight, `to` the
 * midnight after it (the API's `to` is exclusive, the person's last day is inclusive).
 */
export function apiQuery(filters: HistoryFilters, limit = 25): MediaListQuery {
  return {
    limit,
    ...(filters.q ? { q: filters.q } : {}),
    ...(filters.band ? { band: filters.band } : {}),
    ...(filters.status ? { status: filters.status } : {}),
    ...(filters.from ? { from: localMidnight(filters.from, 0).toISOString() } : {}),
    ...(filters.to ? { to: localMidnight(filters.to, 1).toISOString() } : {}),
    ...(filters.uploader ? { uploader: filters.uploader } : {}),
    ...(filters.cursor ? { cursor: filters.cursor } : {}),
  };
}

function localMidnight(date: string, plusDays: number): Date {
  const [year, month, dayOfMonth] = date.split('-').map(Number) as [number, number, number];
  return new Date(year, month - 1, dayOfMonth + plusDays);
}

/** A date range the API would refuse, as a sentence; null when it is fine. */
export function dateRangeProblem(filters: HistoryFilters): string | null {
  return filters.from && filters.to && filters.from > filters.to
    ? 'The “from” date is after the “to” date.'
    : null;
}
