import { describe, expect, it } from 'vitest';
import {
  apiQuery,
  dateRangeProblem,
  filtersToSearch,
  noFilters,
  readFilters,
} from '../../web/src/pages/history/history-filters.js';
import { batchMediaIds } from '../../web/src/pages/batch/batch-ids.js';

const uploader = '5b0e4c1e-9a57-4f4e-9d0b-1c2d3e4f5a6b';

describe('history filters in the query string', () => {
  it('reads valid filters and round-trips them without the empty ones', () => {
    const search = `?q=press+brief&band=no_indicators&status=done&from=2026-01-02&to=2026-01-31&uploader=${uploader}&cursor=abc`;
    const filters = readFilters(search);
    expect(filters).toEqual({
      q: 'press brief',
      band: 'no_indicators',
      status: 'done',
      from: '2026-01-02',
      to: '2026-01-31',
      uploader,
      cursor: 'abc',
    });
    expect(readFilters(filtersToSearch(filters))).toEqual(filters);
    expect(filtersToSearch({ ...noFilters, q: 'a&b=c' })).toBe('?q=a%26b%3Dc');
    expect(filtersToSearch(noFilters)).toBe('');
  });

  it('drops values the API would refuse rather than sending them', () => {
    expect(
      readFilters('?band=authentic&status=constructor&from=yesterday&to=2026-13&uploader=me&q=%20%20'),
    ).toEqual(noFilters);
    expect(readFilters('?band=toString').band).toBe('');
    expect(readFilters(`?q=${'x'.repeat(300)}`).q).toHaveLength(255);
  });

  it('turns inclusive local days into the API instants, `to` being the next midnight', () => {
    expect(apiQuery({ ...noFilters, from: '2026-03-01', to: '2026-03-01', q: 'clip' }, 10)).toEqual({
      limit: 10,
      q: 'clip',
      from: new Date(2026, 2, 1).toISOString(),
      to: new Date(2026, 2, 2).toISOString(),
    });
    expect(apiQuery(noFilters)).toEqual({ limit: 25 });
    expect(apiQuery({ ...noFilters, band: 'inconclusive', status: 'done', uploader, cursor: 'c' })).toEqual({
      limit: 25,
      band: 'inconclusive',
      status: 'done',
      uploader,
      cursor: 'c',
    });
  });

  it('names a date range whose start is after its end', () => {
    expect(dateRangeProblem({ ...noFilters, from: '2026-02-01', to: '2026-01-01' })).toMatch(/after/);
    expect(dateRangeProblem({ ...noFilters, from: '2026-01-01', to: '2026-01-01' })).toBeNull();
    expect(dateRangeProblem({ ...noFilters, from: '2026-01-01' })).toBeNull();
  });
});

describe('the batch view address', () => {
  it('keeps the listed media ids once each and nothing else', () => {
    expect(batchMediaIds(`?media=${uploader},not-an-id,${uploader.toUpperCase()},${uploader}`)).toEqual([
      uploader,
      uploader.toUpperCase(),
    ]);
    expect(batchMediaIds('?other=1')).toEqual([]);
  });
});
