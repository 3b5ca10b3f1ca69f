import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Keyring } from '../storage/master-key.js';
import { HEADER_BYTES, openObjectHeader } from '../storage/segmented-aead.js';
import {
  backupFiles,
  backupManifest,
  backupObjectKeys,
  type BackupManifest,
  type SealedFileEntry,
} from './backup-manifest.js';
import { hashFile, openSealedFile, readSealedFile } from './sealed-files.js';

export interface BackupProblem {
  file: string;
  problem: string;
}

export interface BackupVerification {
  ok: boolean;
  manifest: BackupManifest | null;
  problems: BackupProblem[];
}

/** The manifest, authenticated (SAGB under the keyring) and parsed; throws a BackupProblem-shaped error. */
export async function readManifest(directory: string, keyring: Keyring): Promise<BackupManifest> {
  const path = join(directory, backupFiles.manifest);
  let text: string;
  try {
    text = (await readSealedFile(path, { objectKey: backupObjectKeys.manifest, keyring })).toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ManifestError(
      code === 'ENOENT'
        ? 'missing (not a backup, or an interrupted one: the manifest is written last)'
        : `does not authenticate (${(error as Error).message}): edited, or sealed under a master key not in this keyring`,
    );
  }
  const parsed = backupManifest.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new ManifestError(`unsupported or malformed: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export class ManifestError extends Error {
  constructor(readonly problem: string) {
    super(`${backupFiles.manifest}: ${problem}`);
  }
}

/**
 * Checks a backup without restoring it: the manifest authenticates, every file it lists is present with its
 * size and SHA-256, the dump decrypts end to end, each blob's header unwraps under the keyring, and no
 * unlisted file sits in the directory.
 */
export async function verifyBackup(directory: string, keyring: Keyring): Promise<BackupVerification> {
  let manifest: BackupManifest;
  try {
    manifest = await readManifest(directory, keyring);
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    return { ok: false, manifest: null, problems: [{ file: backupFiles.manifest, problem: error.problem }] };
  }
  const problems: BackupProblem[] = [];
  const fileProblem = await checkFile(directory, manifest.database);
  if (fileProblem) problems.push(fileProblem);
  else {
    const decrypted = await decryptAll(directory, manifest.database, backupObjectKeys.database, keyring);
    if (decrypted !== manifest.database.plaintextBytes)
      problems.push({
        file: manifest.database.file,
        problem: `decrypts to ${decrypted} bytes, not ${manifest.database.plaintextBytes}`,
      });
  }
  if (manifest.logSigningKey) {
    const problem = await checkFile(directory, manifest.logSigningKey);
    if (problem) problems.push(problem);
  }
  for (const blob of manifest.blobs) {
    const problem =
      (await checkFile(directory, blob)) ?? (await checkHeader(directory, blob, blob.key, keyring));
    if (problem) problems.push(problem);
  }
  problems.push(...(await unlistedFiles(directory, manifest)));
  return { ok: problems.length === 0, manifest, problems };
}

async function checkFile(directory: string, entry: SealedFileEntry): Promise<BackupProblem | null> {
  const found = await hashFile(join(directory, entry.file));
  if (!found) return { file: entry.file, problem: 'missing' };
  if (found.sizeBytes !== entry.sizeBytes)
    return { file: entry.file, problem: `is ${found.sizeBytes} bytes, the manifest says ${entry.sizeBytes}` };
  if (found.sha256 !== entry.sha256)
    return { file: entry.file, problem: 'SHA-256 differs from the manifest (changed after the backup)' };
  return null;
}

/** Plaintext bytes of a whole sealed file, or -1 when it fails to authenticate. */
async function decryptAll(
  directory: string,
  entry: SealedFileEntry,
  objectKey: string,
  keyring: Keyring,
): Promise<number> {
  let total = 0;
  try {
    for await (const chunk of (await openSealedFile(join(directory, entry.file), {
      objectKey,
      keyring,
    })) as AsyncIterable<Buffer>)
      total += chunk.length;
  } catch {
    return -1;
  }
  return total;
}

async function checkHeader(
  directory: string,
  entry: SealedFileEntry,
  objectKey: string,
  keyring: Keyring,
): Promise<BackupProblem | null> {
  const handle = await open(join(directory, entry.file), 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    await handle.read(header, 0, HEADER_BYTES, 0);
    openObjectHeader(header, { objectKey, keyring });
    return null;
  } catch (error) {
    return { file: entry.file, problem: `header does not unwrap: ${(error as Error).message}` };
  } finally {
    await handle.close();
  }
}

async function unlistedFiles(directory: string, manifest: BackupManifest): Promise<BackupProblem[]> {
  const listed = new Set([
    backupFiles.manifest,
    backupFiles.blobsDir,
    manifest.database.file,
    ...(manifest.logSigningKey ? [manifest.logSigningKey.file] : []),
    ...manifest.blobs.map((blob) => blob.file),
  ]);
  const found = [
    ...(await readdir(directory)),
    ...(await readdir(join(directory, backupFiles.blobsDir)).catch(() => [] as string[])).map(
      (name) => `${backupFiles.blobsDir}/${name}`,
    ),
  ];
  return found
    .filter((name) => !listed.has(name))
    .map((file) => ({ file, problem: 'not listed in the manifest' }));
}
