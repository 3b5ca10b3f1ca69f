import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { AnalysisProgressEvent, EventBus } from './event-bus.js';

/** One process: an emitter per organisation, so a listener only ever sees its own org's events. */
export class InMemoryEventBus implements EventBus {
  readonly #log: Logger;
  readonly #emitters = new Map<string, EventEmitter>();

  constructor(deps: { log: Logger }) {
    this.#log = deps.log;
  }

  async publish(event: AnalysisProgressEvent): Promise<void> {
    this.#emitters.get(event.orgId)?.emit('event', event);
  }

  async subscribe(
    orgId: string,
    listener: (event: AnalysisProgressEvent) => void,
  ): Promise<() => Promise<void>> {
    const emitter = this.#emitters.get(orgId) ?? this.#createEmitter(orgId);
    // A throwing listener (a closed socket) must not stop delivery to the others or fail the publisher.
    const guarded = (event: AnalysisProgressEvent) => {
      try {
        listener(event);
      } catch (error) {
        this.#log.warn({ err: error, orgId }, 'event listener failed');
      }
    };
    emitter.on('event', guarded);
    return async () => {
      emitter.off('event', guarded);
      if (emitter.listenerCount('event') === 0) this.#emitters.delete(orgId);
    };
  }

  async close(): Promise<void> {
    for (const emitter of this.#emitters.values()) emitter.removeAllListeners();
    this.#emitters.clear();
  }

  #createEmitter(orgId: string): EventEmitter {
    const emitter = new EventEmitter();
    // One listener per open WebSocket: the default cap of 10 is a false leak alarm here.
    emitter.setMaxListeners(0);
    this.#emitters.set(orgId, emitter);
    return emitter;
  }
}
