// A request flood from one loopback address, run as its own process so the flood's CPU is not the prober's.
// Argument: JSON FloodSpec. Stops after maxRequests or durationMs, whichever comes first.
// Prints one JSON line: { requests, statuses, errors, seconds }.
import { randomInt } from 'node:crypto';
import { Agent, request } from 'node:http';

export interface FloodSpec {
  url: string;
  path: string;
  localAddress: string;
  durationMs: number;
  maxRequests: number;
  connections: number;
  /** forged: a new X-Forwarded-For per request; via-proxy: a forged entry, then the one a proxy appended. */
  forwardedFor: 'none' | 'forged' | 'via-proxy';
  /** The address a proxy appended (via-proxy). */
  proxiedClient?: string;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as FloodSpec;
const randomAddress = () => `${randomInt(1, 224)}.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
const headersFor = (): Record<string, string> => {
  if (spec.forwardedFor === 'forged') return { 'x-forwarded-for': randomAddress() };
  if (spec.forwardedFor === 'via-proxy')
    return { 'x-forwarded-for': `${randomAddress()}, ${spec.proxiedClient ?? '203.0.113.7'}` };
  return {};
};

const agent = new Agent({ keepAlive: true, maxSockets: spec.connections, localAddress: spec.localAddress });
const target = new URL(spec.path, spec.url);

function get(): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(target, { agent, headers: headersFor() }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
      response.once('error', reject);
    });
    outgoing.once('error', reject);
    outgoing.end();
  });
}
const statuses: Record<string, number> = {};
let requests = 0;
let errors = 0;
const started = performance.now();
const deadline = started + spec.durationMs;

async function worker(): Promise<void> {
  while (performance.now() < deadline && requests < spec.maxRequests) {
    requests += 1;
    try {
      const status = await get();
      statuses[status] = (statuses[status] ?? 0) + 1;
    } catch {
      errors += 1;
    }
  }
}

await Promise.all(Array.from({ length: spec.connections * 2 }, worker));
const seconds = (performance.now() - started) / 1000;
agent.destroy();
console.log(JSON.stringify({ requests, statuses, errors, seconds }));
