/** A FIFO lock: one holder at a time, waiters served in arrival order. */
export class AsyncMutex {
  #locked = false;
  readonly #waiters: (() => void)[] = [];

  async lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Held right now (metrics). */
  get locked(): boolean {
    return this.#locked;
  }

  /** Callers queued behind the holder (metrics). */
  get waiting(): number {
    return this.#waiters.length;
  }

  unlock(): void {
    const next = this.#waiters.shift();
    // Ownership passes straight to the next waiter, so nobody can barge in between.
    if (next) next();
    else this.#locked = false;
  }
}
