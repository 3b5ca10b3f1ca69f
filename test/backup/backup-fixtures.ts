import { randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { vi } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { main } from '../../src/cli/main.js';
import type { Database } from '../../src/db/schema.js';
import { analysisReport } from '../reporting/report-fixture.js';
import { generateStill } from '../helpers/media-fixtures.js';

/** Row counts of every table in the database's own schemas. */
export async function rowCounts(db: Kysely<Database>): Promise<Record<string, number>> {
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`.execute(db);
  const counts: Record<string, number> = {};
  for (const { name } of tables.rows) {
    const result = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(name)}`.execute(db);
    counts[name] = result.rows[0]?.n ?? -1;
  }
  return counts;
}

export async function readBlob(platform: Platform, key: string): Promise<Buffer> {
  return Buffer.concat(await (await platform.blobStore.read(key)).toArray());
}

/** Two organisations, users, an API key, three uploads (one analysis finished and logged), an extra blob. */
export async function populate(platform: Platform, mediaDir: string) {
  const { services, repositories } = platform;
  const orgs = [];
  for (const label of ['Newsroom', 'Court']) {
    const name = `${label} ${randomBytes(3).toString('hex')}`;
    const org = await services.organisationService.create(name);
    await services.userService.create(
      {
        orgId: org.id,
        email: `admin-${randomBytes(3).toString('hex')}@example.org`,
        password: 'correct horse battery staple',
        role: 'admin',
      },
      { actor: { type: 'cli', id: null } },
    );
    await platform.managementCommands['apikey.create']({ orgName: name, name: 'desk', role: 'analyst' });
    orgs.push(org);
  }
  const stills = [
    await generateStill(mediaDir, { format: 'png', size: '64x48', name: 'one' }),
    await generateStill(mediaDir, { format: 'jpeg', size: '80x60', name: 'two' }),
    await generateStill(mediaDir, { format: 'png', size: '48x32', name: 'three' }),
  ];
  const uploads = [];
  for (const [index, still] of stills.entries()) {
    const orgId = orgs[index % 2]!.id;
    const registered = await services.mediaService.upload({
      orgId,
      source: createReadStream(still),
      filename: `still-${index}.${still.endsWith('jpg') ? 'jpg' : 'png'}`,
    });
    uploads.push({
      mediaId: registered.id,
      analysisId: registered.analysisId,
      orgId,
      bytes: readFileSync(still),
    });
  }
  const media = await Promise.all(
    uploads.map(async (upload) => {
      const row = await platform.database.db
        .selectFrom('media')
        .select(['id', 'blob_key'])
        .where('id', '=', upload.mediaId)
        .executeTakeFirstOrThrow();
      return { ...upload, blobKey: row.blob_key };
    }),
  );
  const report = analysisReport({ band: 'no_indicators', reasons: ['every applicable check scored low'] });
  await repositories.analyses.complete(uploads[0]!.analysisId, { band: report.band, report });
  await services.transparencyLogService.record(uploads[0]!.analysisId);
  await services.transparencyLogService.signTreeHeadIfMoved();
  // An artifact-like blob that no media row names: backups copy every stored object.
  await platform.blobStore.put('artifact-drill-0001', Readable.from([randomBytes(70_000)]));
  return { orgs, media };
}

/** Creates an empty PostgreSQL database next to TEST_DATABASE_URL's; returns its URL and a dropper. */
export async function emptyPostgresDatabase(
  adminUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `guardian_restore_${randomBytes(6).toString('hex')}`;
  const admin = async (query: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(query);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

/** `guardian ARGS` in this process (vitest runs each file in its own fork) with `env` over process.env. */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  const out: string[] = [];
  const err: string[] = [];
  const log = vi
    .spyOn(console, 'log')
    .mockImplementation((...parts: unknown[]) => void out.push(parts.join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...parts: unknown[]) => void err.push(parts.join(' ')));
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    const code = await main(args);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
