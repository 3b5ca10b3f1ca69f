import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFeatureFlagRepository } from '../../src/repositories/feature-flag.repository.js';
import { createOrganisationRepository } from '../../src/repositories/organisation.repository.js';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';

const at = new Date('2026-01-02T03:04:05.000Z');
const later = new Date('2026-01-03T03:04:05.000Z');

describeEachImplementation('feature flag repository', databaseImplementations(), (implementation) => {
  let store: TestDatabase;

  beforeAll(async () => {
    store = await implementation.open();
  });
  afterAll(() => store?.destroy());

  it('creates, reads, changes and deletes a flag with its overrides', async () => {
    const flags = createFeatureFlagRepository({ db: store.db });
    const organisations = createOrganisationRepository({ db: store.db });
    const [orgA, orgB] = [await organisations.create('Flag org A'), await organisations.create('Flag org B')];
    const created = await flags.create(
      {
        key: 'detector.c2pa-provenance',
        type: 'boolean',
        description: 'runs the C2PA check',
        enabled: true,
        variants: { on: true, off: false },
        defaultVariant: 'on',
        rollout: null,
      },
      at,
    );
    expect(created).toMatchObject({ key: 'detector.c2pa-provenance', rollout: null, overrides: [] });
    expect(created?.createdAt.toISOString()).toBe(at.toISOString());
    expect(
      await flags.create({ ...created!, description: 'again' }, at),
      'a second flag with the same key',
    ).toBeNull();

    const rollout = [
      { variant: 'on', weight: 25 },
      { variant: 'off', weight: 75 },
    ];
    const updated = await flags.update('detector.c2pa-provenance', { enabled: false, rollout }, later);
    expect(updated).toMatchObject({ enabled: false, rollout, description: 'runs the C2PA check' });
    expect(updated?.updatedAt.toISOString()).toBe(later.toISOString());
    expect(await flags.update('no-such-flag', { enabled: true }, later)).toBeNull();

    await flags.setOverride('detector.c2pa-provenance', orgA.id, 'off', at);
    await flags.setOverride('detector.c2pa-provenance', orgB.id, 'on', at);
    await flags.setOverride('detector.c2pa-provenance', orgA.id, 'on', later);
    const found = await flags.find('detector.c2pa-provenance');
    expect(found?.overrides).toHaveLength(2);
    expect(found?.overrides.find((override) => override.orgId === orgA.id)?.variant).toBe('on');
    expect(await flags.clearOverride('detector.c2pa-provenance', orgB.id)).toBe(true);
    expect(await flags.clearOverride('detector.c2pa-provenance', orgB.id)).toBe(false);
    expect(await flags.clearOverride('detector.c2pa-provenance', 'not-a-uuid')).toBe(false);
    expect(await flags.overridesOf('detector.c2pa-provenance')).toEqual([{ orgId: orgA.id, variant: 'on' }]);

    await flags.create(
      {
        key: 'report.layout',
        type: 'object',
        description: '',
        enabled: true,
        variants: { v1: { columns: 2, sections: ['a', 'b'] } },
        defaultVariant: 'v1',
        rollout: null,
      },
      at,
    );
    const listed = await flags.list();
    expect(listed.map((flag) => flag.key)).toEqual(['detector.c2pa-provenance', 'report.layout']);
    expect(listed[1]?.variants).toEqual({ v1: { columns: 2, sections: ['a', 'b'] } });

    expect(await flags.delete('detector.c2pa-provenance')).toBe(true);
    expect(await flags.delete('detector.c2pa-provenance')).toBe(false);
    expect(await flags.find('detector.c2pa-provenance')).toBeNull();
    // Its overrides went with it.
    const orphans = await store.db.selectFrom('feature_flag_overrides').selectAll().execute();
    expect(orphans).toEqual([]);
  });

  it('refuses keys and types the table does not allow, and overrides for unknown organisations', async () => {
    const flags = createFeatureFlagRepository({ db: store.db });
    const base = {
      type: 'boolean' as const,
      description: '',
      enabled: true,
      variants: { on: true },
      defaultVariant: 'on',
      rollout: null,
    };
    await expect(flags.create({ ...base, key: 'Bad Key' }, at)).rejects.toThrow();
    await expect(flags.create({ ...base, key: 'typed', type: 'date' as never }, at)).rejects.toThrow();
    await flags.create({ ...base, key: 'kept' }, at);
    await expect(
      flags.setOverride('kept', '00000000-0000-4000-8000-000000000000', 'on', at),
    ).rejects.toThrow();
  });
});
