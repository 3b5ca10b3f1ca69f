import type {
  AnalysisHistoryRow,
  HistoryQuery,
  HistoryRepository,
  MediaHistoryRow,
} from '../repositories/history.repository.js';
import { badRequest } from './errors.js';
import { decodeCursor, encodeCursor, type CursorKind } from './page-cursor.js';

export type HistoryFilters = Omit<HistoryQuery, 'after' | 'limit' | 'orgId'>;

export interface HistoryPage<T> {
  items: T[];
  /** Null on the last page. */
  nextCursor: string | null;
}

/** The history lists of an organisation: newest first, filtered, paged by opaque cursor. */
export function createHistoryService(deps: { history: HistoryRepository }) {
  async function page<T extends { position: MediaHistoryRow['position'] }>(
    kind: CursorKind,
    list: (query: HistoryQuery) => Promise<T[]>,
    orgId: string,
    request: HistoryFilters & { cursor?: string; limit: number },
  ): Promise<HistoryPage<T>> {
    const { cursor, limit, ...filters } = request;
    if (filters.from && filters.to && filters.from >= filters.to)
      throw badRequest('invalid-date-range', '`from` must be earlier than `to`');
    const after = cursor === undefined ? undefined : decodeCursor(kind, cursor);
    const rows = await list({ ...filters, orgId, limit, ...(after ? { after } : {}) });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(kind, last.position) : null };
  }

  return {
    listMedia: (
      orgId: string,
      request: HistoryFilters & { cursor?: string; limit: number },
    ): Promise<HistoryPage<MediaHistoryRow>> => page('media', deps.history.listMedia, orgId, request),
    listAnalyses: (
      orgId: string,
      request: HistoryFilters & { cursor?: string; limit: number },
    ): Promise<HistoryPage<AnalysisHistoryRow>> =>
      page('analyses', deps.history.listAnalyses, orgId, request),
  };
}

export type HistoryService = ReturnType<typeof createHistoryService>;
