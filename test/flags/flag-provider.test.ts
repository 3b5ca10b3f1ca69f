import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseFlagProvider } from '../../src/flags/database-flag.provider.js';
import type { FeatureFlag } from '../../src/flags/feature-flag.js';
import { createCachedFlagSource, type FlagSource } from '../../src/flags/flag-source.js';
import { openFlagClient, type FlagClient } from '../../src/flags/open-feature-client.js';
import { testLogger } from '../helpers/databases.js';

const orgA = '7d0c1a52-0a4e-4f7e-9d0e-4b1f0d6c2a01';
const orgB = '7d0c1a52-0a4e-4f7e-9d0e-4b1f0d6c2a02';

function flag(key: string, fields: Partial<FeatureFlag> = {}): FeatureFlag {
  return {
    key,
    type: 'boolean',
    description: '',
    enabled: true,
    variants: { on: true, off: false },
    defaultVariant: 'off',
    rollout: null,
    overrides: [],
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...fields,
  };
}

/** A source over a mutable list, counting loads; `fail` makes the next loads throw. */
function listSource(flags: FeatureFlag[]) {
  const state = { flags, loads: 0, fail: false };
  const load = async () => {
    state.loads += 1;
    if (state.fail) throw new Error('database unreachable');
    return state.flags;
  };
  return { state, load };
}

function staticSource(flags: FeatureFlag[]): FlagSource {
  return { flags: async () => new Map(flags.map((entry) => [entry.key, entry])), invalidate: () => {} };
}

const flags: FeatureFlag[] = [
  flag('plain'),
  flag('switched-off', { enabled: false, defaultVariant: 'on' }),
  flag('pinned', { overrides: [{ orgId: orgA, variant: 'on' }] }),
  flag('split', {
    rollout: [
      { variant: 'on', weight: 20 },
      { variant: 'off', weight: 80 },
    ],
  }),
  flag('three-way', {
    type: 'string',
    variants: { a: 'alpha', b: 'beta', c: 'gamma' },
    defaultVariant: 'a',
    rollout: [
      { variant: 'a', weight: 50 },
      { variant: 'b', weight: 30 },
      { variant: 'c', weight: 20 },
    ],
  }),
  flag('limit', { type: 'number', variants: { low: 5, high: 50 }, defaultVariant: 'high' }),
  flag('shape', { type: 'object', variants: { v1: { columns: 2 } }, defaultVariant: 'v1' }),
  flag('broken', { variants: { on: 'yes' as never }, defaultVariant: 'on' }),
];

describe('database flag provider through an OpenFeature client', () => {
  let client: FlagClient;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ client, close } = await openFlagClient(new DatabaseFlagProvider(staticSource(flags))));
  });
  afterAll(() => close());

  it('answers the code default with FLAG_NOT_FOUND for an unknown flag', async () => {
    const details = await client.getBooleanDetails('no-such-flag', true, { targetingKey: orgA });
    expect(details).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
  });

  it('answers STATIC with the default variant for a flag without targeting', async () => {
    const details = await client.getBooleanDetails('plain', true, { targetingKey: orgA });
    expect(details).toMatchObject({ value: false, variant: 'off', reason: 'STATIC' });
    expect(details.errorCode).toBeUndefined();
  });

  it('answers the code default with DISABLED for a disabled flag, whatever its variants say', async () => {
    expect(await client.getBooleanDetails('switched-off', false, { targetingKey: orgA })).toMatchObject({
      value: false,
      reason: 'DISABLED',
    });
    expect(await client.getBooleanDetails('switched-off', true, { targetingKey: orgA })).toMatchObject({
      value: true,
      reason: 'DISABLED',
    });
  });

  it("answers an organisation's override with TARGETING_MATCH, and DEFAULT for other organisations", async () => {
    expect(await client.getBooleanDetails('pinned', false, { targetingKey: orgA })).toMatchObject({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
    });
    // A user of organisation A: the override follows the organisation attribute, not the user id.
    expect(
      await client.getBooleanDetails('pinned', false, { targetingKey: randomUUID(), organisationId: orgA }),
    ).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    expect(await client.getBooleanDetails('pinned', true, { targetingKey: orgB })).toMatchObject({
      value: false,
      variant: 'off',
      reason: 'DEFAULT',
    });
  });

  it('refuses a type mismatch with TYPE_MISMATCH and the code default', async () => {
    expect(await client.getStringDetails('plain', 'fallback', { targetingKey: orgA })).toMatchObject({
      value: 'fallback',
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
    });
    expect(await client.getBooleanDetails('limit', true, { targetingKey: orgA })).toMatchObject({
      value: true,
      errorCode: 'TYPE_MISMATCH',
    });
  });

  it('never hands out a stored value of the wrong type', async () => {
    expect(await client.getBooleanDetails('broken', false, { targetingKey: orgA })).toMatchObject({
      value: false,
      reason: 'ERROR',
      errorCode: 'PARSE_ERROR',
    });
  });

  it('resolves number, string and object flags', async () => {
    expect((await client.getNumberDetails('limit', 1, {})).value).toBe(50);
    expect((await client.getObjectDetails('shape', {}, {})).value).toEqual({ columns: 2 });
    expect((await client.getStringDetails('three-way', 'x', {})).value).toBe('alpha');
  });

  it('splits 2000 subjects by the rollout weights (±3 points), the same way every time', async () => {
    const subjects = Array.from({ length: 2000 }, (_, index) => `subject-${index}`);
    const counts = new Map<string, number>();
    const first: string[] = [];
    for (const targetingKey of subjects) {
      const details = await client.getStringDetails('three-way', 'x', { targetingKey });
      expect(details.reason).toBe('SPLIT');
      first.push(details.value);
      counts.set(details.value, (counts.get(details.value) ?? 0) + 1);
    }
    expect(Math.abs(counts.get('alpha')! / 2000 - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(counts.get('beta')! / 2000 - 0.3)).toBeLessThan(0.03);
    expect(Math.abs(counts.get('gamma')! / 2000 - 0.2)).toBeLessThan(0.03);
    // Another provider (another process, after a restart) gives every subject the same variant.
    const again = await openFlagClient(new DatabaseFlagProvider(staticSource(flags)));
    try {
      for (const [index, targetingKey] of subjects.entries())
        expect((await again.client.getStringDetails('three-way', 'x', { targetingKey })).value).toBe(
          first[index],
        );
    } finally {
      await again.close();
    }
  });

  it('splits the boolean rollout near 20/80 and needs a targeting key for it', async () => {
    let on = 0;
    for (let index = 0; index < 2000; index += 1)
      if ((await client.getBooleanDetails('split', false, { targetingKey: `org-${index}` })).value) on += 1;
    expect(Math.abs(on / 2000 - 0.2)).toBeLessThan(0.03);
    expect(await client.getBooleanDetails('split', true, {})).toMatchObject({
      value: false,
      reason: 'DEFAULT',
    });
  });

  it('answers the code default with GENERAL when flags cannot be loaded at all', async () => {
    const { state, load } = listSource(flags);
    state.fail = true;
    const failing = await openFlagClient(
      new DatabaseFlagProvider(createCachedFlagSource({ load, ttlMs: 1000, log: testLogger() })),
    );
    try {
      expect(await failing.client.getBooleanDetails('plain', true, {})).toMatchObject({
        value: true,
        reason: 'ERROR',
        errorCode: 'GENERAL',
      });
    } finally {
      await failing.close();
    }
  });
});

describe('cached flag source', () => {
  it('reads through once per TTL, at once after invalidate, and keeps the last snapshot when a load fails', async () => {
    let now = 0;
    const { state, load } = listSource([flag('plain')]);
    const source = createCachedFlagSource({ load, ttlMs: 5000, clock: () => now, log: testLogger() });
    await Promise.all([source.flags(), source.flags(), source.flags()]);
    expect(state.loads).toBe(1);
    state.flags = [flag('plain', { enabled: false })];
    now = 4999;
    expect((await source.flags()).get('plain')?.enabled).toBe(true);
    now = 5000;
    expect((await source.flags()).get('plain')?.enabled).toBe(false);
    expect(state.loads).toBe(2);
    state.flags = [];
    source.invalidate();
    expect((await source.flags()).size).toBe(0);
    expect(state.loads).toBe(3);
    state.flags = [flag('plain')];
    state.fail = true;
    now = 20_000;
    expect((await source.flags()).size).toBe(0);
    expect(state.loads).toBe(4);
  });
});
