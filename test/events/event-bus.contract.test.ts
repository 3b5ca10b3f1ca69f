import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import type { AnalysisProgressEvent, EventBus } from '../../src/events/event-bus.js';
import { InMemoryEventBus } from '../../src/events/in-memory.event-bus.js';
import { RedisEventBus } from '../../src/events/redis.event-bus.js';
import { describeEachImplementation, testLogger } from '../helpers/databases.js';
import { redisImplementation, uniqueRedisPrefix } from '../helpers/redis.js';
import { waitFor } from '../queue/wait-for.js';

interface EventBusImplementation {
  name: string;
  skipReason?: string;
  /** Buses made by one factory share a channel space, like processes of one deployment. */
  factory(): () => EventBus;
  /** Whether a second bus (another process) receives what the first publishes. */
  crossesProcesses: boolean;
}

const redis = redisImplementation();
const implementations: EventBusImplementation[] = [
  {
    name: 'in memory',
    crossesProcesses: false,
    factory: () => () => new InMemoryEventBus({ log: testLogger() }),
  },
  {
    name: 'redis',
    skipReason: redis.skipReason,
    crossesProcesses: true,
    factory: () => {
      const channelPrefix = `${uniqueRedisPrefix('events')}:`;
      return () => new RedisEventBus({ redisUrl: redis.url, log: testLogger(), channelPrefix });
    },
  },
];

const progressEvent = (orgId: string, progress = 0.5): AnalysisProgressEvent => ({
  type: 'analysis.progress',
  orgId,
  analysisId: randomUUID(),
  mediaId: randomUUID(),
  status: 'running',
  stage: 'faces',
  progress,
  at: new Date().toISOString(),
});

describeEachImplementation('event bus contract', implementations, (implementation) => {
  const buses: EventBus[] = [];
  const createBuses = (count: number) => {
    const create = implementation.factory();
    const created = Array.from({ length: count }, create);
    buses.push(...created);
    return created;
  };

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  it("delivers an organisation's events to its subscribers only", async () => {
    const [bus] = createBuses(1) as [EventBus];
    const [orgA, orgB] = [randomUUID(), randomUUID()];
    const seenA: AnalysisProgressEvent[] = [];
    const seenB: AnalysisProgressEvent[] = [];
    await bus.subscribe(orgA, (event) => seenA.push(event));
    await bus.subscribe(orgB, (event) => seenB.push(event));
    const forA = progressEvent(orgA);
    await bus.publish(forA);
    await bus.publish(progressEvent(orgB));
    await waitFor('the event for B', () => seenB.length === 1);
    expect(seenA).toEqual([forA]);
    expect(seenB.every((event) => event.orgId === orgB)).toBe(true);
  });

  it('stops delivering after unsubscribe, and keeps other subscribers of the org', async () => {
    const [bus] = createBuses(1) as [EventBus];
    const orgId = randomUUID();
    const first: AnalysisProgressEvent[] = [];
    const second: AnalysisProgressEvent[] = [];
    const unsubscribeFirst = await bus.subscribe(orgId, (event) => first.push(event));
    await bus.subscribe(orgId, (event) => second.push(event));
    await bus.publish(progressEvent(orgId, 0.1));
    await waitFor('both subscribers', () => first.length === 1 && second.length === 1);
    await unsubscribeFirst();
    await bus.publish(progressEvent(orgId, 0.2));
    await waitFor('the remaining subscriber', () => second.length === 2);
    expect(first).toHaveLength(1);
  });

  it('keeps delivering when a listener throws', async () => {
    const [bus] = createBuses(1) as [EventBus];
    const orgId = randomUUID();
    const seen: AnalysisProgressEvent[] = [];
    await bus.subscribe(orgId, () => {
      throw new Error('socket closed');
    });
    await bus.subscribe(orgId, (event) => seen.push(event));
    await expect(bus.publish(progressEvent(orgId))).resolves.toBeUndefined();
    await waitFor('the healthy listener', () => seen.length === 1);
  });

  if (!implementation.crossesProcesses) return;

  it('delivers events published by another process', async () => {
    const [publisher, subscriber] = createBuses(2) as [EventBus, EventBus];
    const orgId = randomUUID();
    const seen: AnalysisProgressEvent[] = [];
    await subscriber.subscribe(orgId, (event) => seen.push(event));
    const event = progressEvent(orgId);
    await publisher.publish(event);
    await waitFor('the event from the other bus', () => seen.length === 1);
    expect(seen).toEqual([event]);
  });
});
