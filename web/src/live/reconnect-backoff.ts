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

/** WebSocket close codes 4000 + an HTTP 4xx status: the server refused, and reconnecting cannot help. */
export function isFinalClose(code: number): boolean {
  return code >= 4400 && code < 4500;
}
