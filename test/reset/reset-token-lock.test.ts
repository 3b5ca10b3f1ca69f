import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOneTimeTokenRepository } from '../../src/repositories/one-time-token.repository.js';
import { createOrganisationRepository } from '../../src/repositories/organisation.repository.js';
import { createUserRepository } from '../../src/repositories/user.repository.js';
import { newOneTimeToken } from '../../src/services/one-time-token.js';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';

describeEachImplementation(
  'password-reset tokens under concurrency',
  databaseImplementations(),
  (implementation) => {
    let database: TestDatabase;

    beforeAll(async () => {
      database = await implementation.open();
    });

    afterAll(async () => {
      await database?.destroy();
    });

    async function newUser() {
      const org = await createOrganisationRepository({ db: database.db }).create(`org-${randomUUID()}`);
      return createUserRepository({ db: database.db }).create({
        orgId: org.id,
        email: `${randomUUID()}@example.org`,
        passwordHash: 'not-a-real-hash',
        role: 'viewer',
      });
    }

    const resetFor = (user: { id: string; org_id: string; email: string }, at: Date) => ({
      purpose: 'password_reset' as const,
      tokenHash: newOneTimeToken().tokenHash,
      orgId: user.org_id,
      userId: user.id,
      email: user.email,
      role: null,
      createdBy: null,
      createdAt: at,
      expiresAt: new Date(at.getTime() + 30 * 60_000),
    });

    it('waits for a concurrent request on the same account and then sees its token', async () => {
      const tokens = createOneTimeTokenRepository({ db: database.db });
      const user = await newUser();
      const at = new Date();
      const notBefore = new Date(at.getTime() - 120_000);
      // Another request holds the account's lock and has not committed its token yet.
      const { pending } = await database.db.transaction().execute(async (trx) => {
        await trx.selectFrom('users').select('id').where('id', '=', user.id).forUpdate().execute();
        const racing = tokens.createResetUnlessRecent(resetFor(user, at), notBefore);
        await sleep(200);
        await tokens.create(resetFor(user, at), trx);
        return { pending: racing };
      });
      expect(await pending).toBeNull();

      const later = new Date(at.getTime() + 121_000);
      expect(
        await tokens.createResetUnlessRecent(resetFor(user, later), new Date(later.getTime() - 120_000)),
      ).not.toBeNull();
    });
  },
);
