import { expect } from 'vitest';

/** A request and how long its answer took, in whole milliseconds. */
export async function timed(request: () => Promise<Response>): Promise<{ response: Response; ms: number }> {
  const started = performance.now();
  const response = await request();
  return { response, ms: Math.round(performance.now() - started) };
}

/**
 * What a request must get while a backing service is down: 503 problem+json `service-unavailable` with
 * `Retry-After: 5`, within `limitMs`, naming no connection string, socket error or stack frame (`leaks`).
 */
export async function expectServiceUnavailable(
  answer: { response: Response; ms: number },
  limitMs: number,
  leaks: RegExp,
): Promise<void> {
  expect(answer.response.status).toBe(503);
  expect(answer.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(answer.response.headers.get('retry-after')).toBe('5');
  const problem = (await answer.response.json()) as Record<string, unknown>;
  expect(problem).toMatchObject({ status: 503, code: 'service-unavailable' });
  expect(JSON.stringify(problem)).not.toMatch(leaks);
  expect(answer.ms).toBeLessThan(limitMs);
}
