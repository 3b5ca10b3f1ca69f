import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** What a repository method runs on: the database, or a caller's transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;
