import { z } from 'zod';

/** Names inside a backup directory; every file but these is refused by `verify`. */
export const backupFiles = {
  manifest: 'manifest.sagb',
  database: 'database.sagb',
  logSigningKey: 'log-signing-key.sagb',
  blobsDir: 'blobs',
} as const;

/** SAGB object keys of the backup's own files: a file moved to another name fails to authenticate. */
export const backupObjectKeys = {
  manifest: 'backup-manifest',
  database: 'backup-database',
  logSigningKey: 'backup-log-signing-key',
} as const;

export const backupFormat = 'secureai-guardian-backup/v1';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const sealedFile = z.strictObject({
  file: z.string(),
  /** Ciphertext bytes as written in the backup. */
  sizeBytes: z.number().int().nonnegative(),
  /** SHA-256 of the ciphertext file. */
  sha256,
  plaintextBytes: z.number().int().nonnegative(),
});

export const shredLedgerEntry = z.strictObject({
  blobKey: z.string().min(1).max(128),
  organisationId: z.string().nullable(),
  reason: z.enum(['user-deletion', 'retention', 'erasure-request', 'organisation-deletion']),
  shreddedAt: z.string(),
});
export type ShredLedgerEntry = z.infer<typeof shredLedgerEntry>;

export const backupManifest = z.strictObject({
  format: z.literal(backupFormat),
  backupId: z.string().uuid(),
  createdAt: z.string(),
  appVersion: z.string(),
  /** Last migration applied to the dumped database; null for a database never migrated. */
  migration: z.string().nullable(),
  /** KEK the backup was sealed under (the same id appears in every SAGB header). */
  masterKeyId: z.string(),
  database: sealedFile.extend({ kind: z.enum(['pglite', 'postgres']), tool: z.string() }),
  logSigningKey: sealedFile.nullable(),
  blobs: z.array(sealedFile.extend({ key: z.string() })),
  /** The live deployment's `shredded_blobs` when the backup was taken. */
  shreddedBlobs: z.array(shredLedgerEntry),
  /** Keys listed by the store that vanished before they were copied (deleted during the backup). */
  vanishedBlobs: z.array(z.string()),
  /** Keys whose stored bytes failed authentication: not in this backup. */
  unreadableBlobs: z.array(z.string()),
});
export type BackupManifest = z.infer<typeof backupManifest>;
export type SealedFileEntry = z.infer<typeof sealedFile>;
