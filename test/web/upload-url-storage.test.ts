import type { PreviousUpload } from 'tus-js-client';
import { describe, expect, it } from 'vitest';
import {
  fileFingerprint,
  sessionUrlStorage,
  type KeyValueStorage,
} from '../../web/src/pages/upload/session-url-storage.js';
import { bandClass, bandWords } from '../../web/src/components/band-words.js';

function memoryStorage(): KeyValueStorage & { entries: Map<string, string> } {
  const entries = new Map<string, string>();
  return {
    entries,
    get length() {
      return entries.size;
    },
    key: (index) => [...entries.keys()][index] ?? null,
    getItem: (key) => entries.get(key) ?? null,
    setItem: (key, value) => void entries.set(key, value),
    removeItem: (key) => void entries.delete(key),
  };
}

const upload = (uploadUrl: string): PreviousUpload => ({
  size: 10,
  metadata: { filename: 'clip.mp4' },
  creationTime: '2026-01-01T00:00:00.000Z',
  urlStorageKey: '',
  uploadUrl,
  parallelUploadUrls: null,
});

describe('where unfinished uploads are remembered for a reload', () => {
  it('finds uploads by fingerprint and all together, and forgets one by its key', async () => {
    const storage = memoryStorage();
    const urls = sessionUrlStorage(storage);
    const first = await urls.addUpload('fp-1', upload('/api/v1/uploads/aaaaaaaa'));
    await urls.addUpload('fp-2', upload('/api/v1/uploads/bbbbbbbb'));
    expect((await urls.findUploadsByFingerprint('fp-1')).map((found) => found.uploadUrl)).toEqual([
      '/api/v1/uploads/aaaaaaaa',
    ]);
    expect((await urls.findUploadsByFingerprint('fp-1')).at(0)?.urlStorageKey).toBe(first);
    expect(await urls.findUploadsByFingerprint('fp')).toEqual([]);
    expect(await urls.findAllUploads()).toHaveLength(2);
    await urls.removeUpload(first);
    expect((await urls.findAllUploads()).map((found) => found.uploadUrl)).toEqual([
      '/api/v1/uploads/bbbbbbbb',
    ]);
  });

  it('drops an entry it cannot read and leaves other keys alone', async () => {
    const storage = memoryStorage();
    storage.setItem('guardian-upload::fp::x', '{not json');
    storage.setItem('someone-else', 'kept');
    expect(await sessionUrlStorage(storage).findAllUploads()).toEqual([]);
    expect([...storage.entries.keys()]).toEqual(['someone-else']);
  });

  it('fingerprints a file by size, date and a hash, without its name in the key', async () => {
    const file = { name: 'secret-source.mp4', type: 'video/mp4', size: 1234, lastModified: 99 };
    const fingerprint = await fileFingerprint(file);
    expect(fingerprint).toMatch(/^1234-99-[0-9a-f]+$/);
    expect(fingerprint).not.toContain('secret');
    expect(await fileFingerprint({ ...file, name: 'other.mp4' })).not.toBe(fingerprint);
    expect(await fileFingerprint({ ...file })).toBe(fingerprint);
  });
});

describe('band words', () => {
  it('are exactly the words of the reports, never "authentic"', () => {
    expect(bandWords).toEqual({
      indicators_found: 'Manipulation indicators found',
      inconclusive: 'Inconclusive',
      no_indicators: 'No indicators found by these checks',
      not_analyzable: 'Not analyzable',
    });
    expect(Object.values(bandWords).join(' ')).not.toMatch(/authentic/i);
    expect(bandClass('no_indicators')).toBe('band band-no-indicators');
  });
});
