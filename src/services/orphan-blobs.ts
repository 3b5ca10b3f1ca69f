import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import type { BlobStore } from '../storage/blob-store.js';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const batchSize = 500;

/** What owns a blob, by its key's prefix; null for keys this sweep does not understand (never touched). */
type Owner = { table: 'media'; blobKey: string } | { table: 'analyses'; id: string } | { table: 'none' };

function ownerOf(key: string): Owner | null {
  if (key.startsWith('media-')) return { table: 'media', blobKey: key };
  const analysisId = key.startsWith('analysis-artifacts-') ? key.slice('analysis-artifacts-'.length) : null;
  if (analysisId !== null) return uuid.test(analysisId) ? { table: 'analyses', id: analysisId } : null;
  // The store's health probe deletes its object at once; one is left only by a crash mid-probe.
  if (key.startsWith('health-probe-')) return { table: 'none' };
  return null;
}

export interface OrphanBlobSweep {
  /** Blobs listed by the store. */
  examined: number;
  /** Blobs no row refers to, written before the cutoff, deleted. */
  deleted: number;
}

/**
 * Deletes blobs no row refers to: a crash between an upload's blob landing and its media row committing, or
 * an analysis row gone before its artifacts. Only blobs last written before `olderThan` go, so an upload
 * still being registered is spared; keys of unknown shape are left alone.
 */
export async function sweepOrphanBlobs(deps: {
  db: Kysely<Database>;
  blobStore: BlobStore;
  olderThan: Date;
  log: Logger;
}): Promise<OrphanBlobSweep> {
  let examined = 0;
  let deleted = 0;
  let batch: string[] = [];
  const flush = async () => {
    for (const key of await unreferenced(deps.db, batch)) {
      const modifiedAt = await deps.blobStore.modifiedAt(key);
      if (!modifiedAt || modifiedAt >= deps.olderThan) continue;
      await deps.blobStore.delete(key);
      deps.log.warn({ blobKey: key, modifiedAt }, 'deleted a blob no record refers to');
      deleted += 1;
    }
    batch = [];
  };
  for await (const key of deps.blobStore.keys()) {
    examined += 1;
    batch.push(key);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return { examined, deleted };
}

async function unreferenced(db: Kysely<Database>, keys: string[]): Promise<string[]> {
  const owned = keys.map((key) => ({ key, owner: ownerOf(key) }));
  const mediaKeys = owned.flatMap(({ owner }) => (owner?.table === 'media' ? [owner.blobKey] : []));
  const analysisIds = owned.flatMap(({ owner }) => (owner?.table === 'analyses' ? [owner.id] : []));
  const knownMedia = new Set(
    mediaKeys.length === 0
      ? []
      : (await db.selectFrom('media').select('blob_key').where('blob_key', 'in', mediaKeys).execute()).map(
          (row) => row.blob_key,
        ),
  );
  const knownAnalyses = new Set(
    analysisIds.length === 0
      ? []
      : (await db.selectFrom('analyses').select('id').where('id', 'in', analysisIds).execute()).map(
          (row) => row.id,
        ),
  );
  return owned.flatMap(({ key, owner }) => {
    if (!owner) return [];
    if (owner.table === 'media') return knownMedia.has(owner.blobKey) ? [] : [key];
    if (owner.table === 'analyses') return knownAnalyses.has(owner.id) ? [] : [key];
    return [key];
  });
}
