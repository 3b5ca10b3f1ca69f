import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { describe } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';

/** Silent unless TEST_LOG_LEVEL asks for more (debugging a failing suite). */
export function testLogger(): Logger {
  return pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

export interface TestDatabase extends OpenedDatabase {
  /** What openDatabase needs to reach this same store again (a second handle, a child process). */
  settings: { databaseUrl?: string; dataDir: string };
  /** A new handle on the same store. PGlite allows one handle per directory: close this one first. */
  reopen(): Promise<TestDatabase>;
  /** Closes this handle and deletes the store. */
  destroy(): Promise<void>;
}

export interface DatabaseImplementation {
  name: 'pglite' | 'postgres';
  /** Set when this implementation cannot run here; its suites are reported as skipped with this reason. */
  skipReason?: string;
  /** A fresh store with migrations applied; each call is isolated, so test files can run in parallel. */
  open(): Promise<TestDatabase>;
}

/** PGlite always; PostgreSQL when TEST_DATABASE_URL names a server we may create databases on. */
export function databaseImplementations(): DatabaseImplementation[] {
  const adminUrl = process.env.TEST_DATABASE_URL;
  return [
    { name: 'pglite', open: openPGliteStore },
    adminUrl
      ? { name: 'postgres', open: () => openPostgresStore(adminUrl) }
      : {
          name: 'postgres',
          skipReason: 'TEST_DATABASE_URL is not set',
          open: () => Promise.reject(notSet()),
        },
  ];
}

/**
 * One describe block per implementation; an unavailable one is still listed, as skipped, with its reason
 * in the title (and a warning on stderr), so a run without services never looks like a full pass.
 */
export function describeEachImplementation<T extends { name: string; skipReason?: string }>(
  title: string,
  implementations: T[],
  body: (implementation: T) => void,
): void {
  for (const implementation of implementations) {
    const { skipReason } = implementation;
    // CI promises the real services: a missing one there is a failure, never a quiet skip.
    if (skipReason && process.env.CI === 'true')
      throw new Error(`${title} on ${implementation.name}: ${skipReason} (CI=true)`);
    if (skipReason) console.warn(`[skipped] ${title} on ${implementation.name}: ${skipReason}`);
    describe.skipIf(skipReason !== undefined)(
      `${title} on ${implementation.name}${skipReason ? ` (skipped: ${skipReason})` : ''}`,
      () => body(implementation),
    );
  }
}

async function openPGliteStore(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'guardian-test-'));
  return openHandle({ dataDir }, () => rm(dataDir, { recursive: true, force: true }));
}

async function openPostgresStore(adminUrl: string): Promise<TestDatabase> {
  const name = `guardian_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.query(`create database ${name}`));
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${name}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'guardian-test-'));
  return openHandle({ databaseUrl: databaseUrl.toString(), dataDir }, async () => {
    await withAdmin(adminUrl, (admin) => admin.query(`drop database if exists ${name} with (force)`));
    await rm(dataDir, { recursive: true, force: true });
  });
}

async function openHandle(
  settings: TestDatabase['settings'],
  removeStore: () => Promise<void>,
): Promise<TestDatabase> {
  const opened = await openDatabase({ ...settings, poolMax: 5, log: testLogger() });
  await migrateToLatest(opened.db);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await opened.close();
  };
  return {
    ...opened,
    settings,
    close,
    reopen: () => openHandle(settings, removeStore),
    async destroy() {
      await close();
      await removeStore();
    },
  };
}

async function withAdmin<T>(adminUrl: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

function notSet(): Error {
  return new Error('TEST_DATABASE_URL is not set');
}
