import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { Keyring } from '../storage/master-key.js';
import { backupFiles, shredLedgerEntry, type ShredLedgerEntry } from './backup-manifest.js';
import { readManifest } from './backup-verify.js';

export interface LedgerUnion {
  entries: Map<string, ShredLedgerEntry>;
  fromThisBackup: number;
  /** Other backups under the same parent whose manifests were read, and how many entries each brought. */
  siblings: { directory: string; entries: number }[];
  /** Other backups whose manifest could not be read (another master key, damaged): their ledgers are unknown. */
  unreadableSiblings: string[];
  fromFiles: number;
}

const ledgerFile = z.array(shredLedgerEntry);

/**
 * Deletions made after a backup was taken are in the ledgers of later backups (and in the live database's
 * `shredded_blobs`, exported with --shred-ledger): the union of all of them is kept out of a restore.
 */
export async function collectShredLedger(input: {
  backupDirectory: string;
  own: ShredLedgerEntry[];
  keyring: Keyring;
  ledgerFiles: string[];
}): Promise<LedgerUnion> {
  const entries = new Map<string, ShredLedgerEntry>();
  const add = (list: ShredLedgerEntry[]) => {
    for (const entry of list) if (!entries.has(entry.blobKey)) entries.set(entry.blobKey, entry);
  };
  add(input.own);
  const union: LedgerUnion = {
    entries,
    fromThisBackup: input.own.length,
    siblings: [],
    unreadableSiblings: [],
    fromFiles: 0,
  };
  const self = resolve(input.backupDirectory);
  const parent = dirname(self);
  for (const name of (await readdir(parent, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const directory = join(parent, name.name);
    if (!name.isDirectory() || directory === self) continue;
    const hasManifest = (await readdir(directory).catch(() => [] as string[])).includes(backupFiles.manifest);
    if (!hasManifest) continue;
    try {
      const manifest = await readManifest(directory, input.keyring);
      add(manifest.shreddedBlobs);
      union.siblings.push({ directory: basename(directory), entries: manifest.shreddedBlobs.length });
    } catch {
      union.unreadableSiblings.push(basename(directory));
    }
  }
  for (const file of input.ledgerFiles) {
    const parsed = ledgerFile.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success)
      throw new Error(
        `${file}: not a shred ledger (a JSON array of {blobKey, organisationId, reason, shreddedAt}): ${parsed.error.issues[0]?.message}`,
      );
    add(parsed.data);
    union.fromFiles += parsed.data.length;
  }
  return union;
}
