import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPasswordHasher } from '../../src/services/password-hasher.js';
import { openAccountApp, strongPassword, type AccountApp } from '../helpers/account-app.js';
import { databaseImplementations, describeEachImplementation } from '../helpers/databases.js';

/** The parameter string of an argon2 PHC hash: `argon2id$v=19$m=…,t=…,p=…`. */
const parametersOf = (hash: string) => /^\$(argon2\w+\$v=\d+\$m=\d+,t=\d+,p=\d+)\$/.exec(hash)?.[1];

describeEachImplementation('passwords rehashed at login', databaseImplementations(), (implementation) => {
  let account: AccountApp;
  let orgId: string;

  beforeAll(async () => {
    account = await openAccountApp(implementation);
    orgId = (await account.createOrg('Rehash')).id;
  });

  afterAll(async () => {
    await account?.close();
  });

  const storedUser = async (id: string) => {
    const user = await account.platform.repositories.users.findById(orgId, id);
    if (!user) throw new Error(`no user ${id}`);
    return user;
  };

  /** A user whose stored hash was made, with the same password, under other argon2 parameters. */
  async function userHashedWith(parameters: { memoryCost: number; timeCost: number; parallelism: number }) {
    const user = await account.createUser(orgId, 'analyst');
    const older = await createPasswordHasher({ concurrency: 1, parameters }).hash(strongPassword);
    const current = await storedUser(user.id);
    expect(
      await account.platform.repositories.users.replacePasswordHash(user.id, current.password_hash, older),
    ).toBe(true);
    return { ...user, older, passwordChangedAt: current.password_changed_at };
  }

  it('replaces a hash made with weaker parameters by one at the current parameters, on a good login only', async () => {
    const user = await userHashedWith({ memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(parametersOf(user.older)).toBe('argon2id$v=19$m=4096,t=1,p=1');

    // A wrong password proves nothing: the old hash stays.
    expect((await account.client().login(user.email, 'not the password at all')).statusCode).toBe(401);
    expect((await storedUser(user.id)).password_hash).toBe(user.older);

    const signedIn = account.client();
    const login = await signedIn.login(user.email);
    expect(login.statusCode, login.body).toBe(200);
    const after = await storedUser(user.id);
    expect(parametersOf(after.password_hash)).toBe('argon2id$v=19$m=19456,t=2,p=1');
    // Not a password change: the date stays, and the session the login made stays valid.
    expect(after.password_changed_at).toEqual(user.passwordChangedAt);
    expect((await signedIn.get('/api/v1/me')).statusCode).toBe(200);
    // The new hash works, and the next login leaves it as it is.
    expect((await account.client().login(user.email)).statusCode).toBe(200);
    expect((await storedUser(user.id)).password_hash).toBe(after.password_hash);
    await account.settle();
    const logins = (await account.platform.auditLog.list({ orgId, limit: 200 })).events.filter(
      (event) => event.action === 'auth.login' && event.outcome === 'success' && event.actor.id === user.id,
    );
    // Newest first: the second login found nothing to redo.
    expect(logins.map((event) => event.details.rehashed)).toEqual([false, true]);
    // The old hash is gone for good: a compare-and-set against it changes nothing.
    expect(
      await account.platform.repositories.users.replacePasswordHash(user.id, user.older, user.older),
    ).toBe(false);
  });

  it('also replaces a hash made with other (stronger) parameters: the current choice wins', async () => {
    const user = await userHashedWith({ memoryCost: 32_768, timeCost: 3, parallelism: 2 });
    expect(parametersOf(user.older)).toBe('argon2id$v=19$m=32768,t=3,p=2');
    expect((await account.client().login(user.email)).statusCode).toBe(200);
    expect(parametersOf((await storedUser(user.id)).password_hash)).toBe('argon2id$v=19$m=19456,t=2,p=1');
  });
});
