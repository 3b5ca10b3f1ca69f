/** A stored throttle state and the time (ms since the epoch, by the caller's clock) after which it is void. */
export interface ThrottleEntry<S> {
  state: S;
  expiresAt: number;
}

/** What one step decides: the entry to store (`null` removes it, `undefined` leaves it as it is) and a result. */
export interface ThrottleStep<S, R> {
  next?: ThrottleEntry<S> | null;
  result: R;
}

/**
 * Keyed throttle state with one atomic operation. Time is the caller's: an entry whose `expiresAt` is not after
 * `now` reads as absent, whatever the store's own expiry did, so tests can drive the clock.
 */
export interface ThrottleStore {
  /**
   * Reads the state under `key`, passes it to `step` and stores what the step returns, all or nothing against
   * concurrent updates of the same key. `step` must be pure and synchronous: a store may run it more than once.
   */
  update<S, R>(key: string, now: number, step: (current: S | null) => ThrottleStep<S, R>): Promise<R>;
}
