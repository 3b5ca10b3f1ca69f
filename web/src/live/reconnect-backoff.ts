/** Waits between reconnection attempts: exponential from `baseMs`, capped, with up to 50 % random jitter. */
export function reconnectDelayMs(
  attempt: number,
  random: () => number = Math.random,
  baseMs = 500,
  maxMs = 15_000,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  // Jitter spreads many tabs reconnecting after one server restart.
  return Math.round(exponential * (0.5 + random() * 0.5));
}

/** WebSocket close codes after which reconnecting cannot help (4000 + HTTP status from the server). */
export function isFinalClose(code: number): boolean {
  return code === 4401 || code === 4403 || code === 4404;
}
