import { Redis, type RedisOptions } from 'ioredis';
import { closeRedis } from '../redis/close-redis.js';
import type { Logger } from 'pino';
import type { AnalysisProgressEvent, EventBus } from './event-bus.js';

export interface RedisEventBusOptions {
  redisUrl: string;
  log: Logger;
  /** Separates deployments (and tests) that share one Redis. */
  channelPrefix?: string;
}

type Listener = (event: AnalysisProgressEvent) => void;

interface OrgSubscription {
  listeners: Set<Listener>;
  /** Resolves once Redis confirmed the SUBSCRIBE, so no event published after subscribe() returns is missed. */
  ready: Promise<unknown>;
}

/** Redis pub/sub, one channel per organisation: every process's WebSocket clients see every worker's progress. */
export class RedisEventBus implements EventBus {
  readonly #log: Logger;
  readonly #prefix: string;
  readonly #publisher: Redis;
  // A connection in subscriber mode can run nothing else, hence its own.
  readonly #subscriber: Redis;
  readonly #subscriptions = new Map<string, OrgSubscription>();
  #publisherWasReady = false;

  constructor(options: RedisEventBusOptions) {
    this.#log = options.log;
    this.#prefix = `${options.channelPrefix ?? 'guardian:'}events:org:`;
    // Progress events are best effort: a publish gives up after one reconnect attempt instead of holding a job.
    this.#publisher = this.#connect(options.redisUrl, { maxRetriesPerRequest: 1 });
    this.#publisher.once('ready', () => (this.#publisherWasReady = true));
    this.#subscriber = this.#connect(options.redisUrl, {});
    this.#subscriber.on('message', (channel: string, message: string) => this.#deliver(channel, message));
  }

  async publish(event: AnalysisProgressEvent): Promise<void> {
    // Lost after being up (an outage, not start-up): drop the event now rather than hold the job that sent it.
    if (this.#publisherWasReady && this.#publisher.status !== 'ready')
      throw new Error(`Redis connection is ${this.#publisher.status}`);
    await this.#publisher.publish(this.#prefix + event.orgId, JSON.stringify(event));
  }

  async subscribe(orgId: string, listener: Listener): Promise<() => Promise<void>> {
    const channel = this.#prefix + orgId;
    let subscription = this.#subscriptions.get(orgId);
    if (!subscription) {
      subscription = { listeners: new Set(), ready: this.#subscriber.subscribe(channel) };
      this.#subscriptions.set(orgId, subscription);
    }
    subscription.listeners.add(listener);
    const current = subscription;
    await current.ready.catch((error: unknown) => {
      // Forget the failed SUBSCRIBE so the next subscribe() tries again.
      if (this.#subscriptions.get(orgId) === current) this.#subscriptions.delete(orgId);
      throw error;
    });
    return async () => {
      current.listeners.delete(listener);
      if (current.listeners.size > 0 || this.#subscriptions.get(orgId) !== current) return;
      this.#subscriptions.delete(orgId);
      await this.#subscriber.unsubscribe(channel);
    };
  }

  async close(): Promise<void> {
    this.#subscriptions.clear();
    await Promise.all([closeRedis(this.#subscriber), closeRedis(this.#publisher)]);
  }

  #deliver(channel: string, message: string): void {
    if (!channel.startsWith(this.#prefix)) return;
    const subscription = this.#subscriptions.get(channel.slice(this.#prefix.length));
    if (!subscription) return;
    let event: AnalysisProgressEvent;
    try {
      event = JSON.parse(message) as AnalysisProgressEvent;
    } catch (error) {
      this.#log.warn({ err: error, channel }, 'unreadable event on the bus');
      return;
    }
    for (const listener of subscription.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#log.warn({ err: error, channel }, 'event listener failed');
      }
    }
  }

  #connect(url: string, options: RedisOptions): Redis {
    const connection = new Redis(url, options);
    connection.on('error', (error) => this.#log.warn({ err: error }, 'Redis event bus connection error'));
    return connection;
  }
}
