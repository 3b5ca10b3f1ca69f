import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { Database, Organisation } from '../db/schema.js';
import { conflict } from '../services/errors.js';
import { isUuid } from './is-uuid.js';

export interface OrganisationRepository {
  /** Throws AppError conflict when the name is taken. */
  create(name: string, executor?: Executor): Promise<Organisation>;
  findByName(name: string): Promise<Organisation | null>;
  findById(id: string): Promise<Organisation | null>;
  list(): Promise<Organisation[]>;
}

export function createOrganisationRepository(deps: { db: Kysely<Database> }): OrganisationRepository {
  const { db } = deps;
  return {
    async create(name, executor = db) {
      // ON CONFLICT rather than catching the violation: a caller's transaction stays usable.
      const created = await executor
        .insertInto('organisations')
        .values({ id: randomUUID(), name })
        .onConflict((oc) => oc.column('name').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!created) throw conflict(`an organisation named "${name}" already exists`);
      return created;
    },

    async findByName(name) {
      return (
        (await db.selectFrom('organisations').selectAll().where('name', '=', name).executeTakeFirst()) ?? null
      );
    },

    async findById(id) {
      if (!isUuid(id)) return null;
      return (
        (await db.selectFrom('organisations').selectAll().where('id', '=', id).executeTakeFirst()) ?? null
      );
    },

    list: () => db.selectFrom('organisations').selectAll().orderBy('name').execute(),
  };
}
