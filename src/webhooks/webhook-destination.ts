import { lookup } from 'node:dns/promises';
import { AppError } from '../services/errors.js';
import {
  classifyAddress,
  networkContains,
  parseAddress,
  parseNetwork,
  type AddressClass,
  type Network,
} from './ip-address-class.js';

/** What the operator allows beyond public https destinations (WEBHOOK_ALLOWED_NETWORKS, WEBHOOK_ALLOW_HTTP). */
export interface DestinationPolicy {
  allowedNetworks: readonly Network[];
  allowHttp: boolean;
}

export type ResolveHost = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const resolveWithSystem: ResolveHost = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** A destination that passed the checks, and the one address to connect to (pinned: no second lookup). */
export interface CheckedDestination {
  url: URL;
  address: string;
  family: 4 | 6;
}

// Never a destination, whatever the operator allows: nothing can be connected to there.
const neverAllowed = new Set<AddressClass>(['unspecified', 'multicast', 'broadcast']);

export const destinationRefused = (detail: string) =>
  new AppError(422, 'webhook-destination-refused', 'Webhook destination refused', detail);

export function parseDestinationPolicy(input: { networks: string | undefined; allowHttp: boolean }) {
  const networks = (input.networks ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map(parseNetwork);
  return { allowedNetworks: networks, allowHttp: input.allowHttp } satisfies DestinationPolicy;
}

/** Why this address may not be a destination under the policy; null when it may. */
export function addressRefusal(address: string, policy: DestinationPolicy): string | null {
  const parsed = parseAddress(address);
  if (!parsed) return `${address} is not an IP address`;
  const kind = classifyAddress(parsed);
  if (neverAllowed.has(kind)) return `${address} is a ${kind} address`;
  if (kind === 'public') return null;
  if (policy.allowedNetworks.some((network) => networkContains(network, parsed))) return null;
  return `${address} is a ${kind} address (not allowed by WEBHOOK_ALLOWED_NETWORKS)`;
}

/** Checks the URL's form; throws `webhook-destination-refused`. */
export function checkDestinationUrl(text: string, policy: DestinationPolicy): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw destinationRefused('not a URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp))
    throw destinationRefused(
      policy.allowHttp ? 'only http(s) URLs' : 'only https URLs (WEBHOOK_ALLOW_HTTP is off)',
    );
  if (url.username !== '' || url.password !== '') throw destinationRefused('credentials in the URL');
  if (url.hash !== '') throw destinationRefused('a fragment in the URL');
  return url;
}

/**
 * Resolves the host and checks every address it resolves to (one refused address refuses all: a name
 * must not mix public and internal addresses); throws `webhook-destination-refused`.
 */
export async function checkDestination(
  text: string,
  policy: DestinationPolicy,
  resolve: ResolveHost,
): Promise<CheckedDestination> {
  const url = checkDestinationUrl(text, policy);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const literal = parseAddress(host);
  let addresses: { address: string; family: number }[];
  if (literal) addresses = [{ address: host, family: literal.family }];
  else {
    try {
      addresses = await resolve(host);
    } catch {
      throw destinationRefused(`${host} could not be resolved`);
    }
  }
  if (addresses.length === 0) throw destinationRefused(`${host} could not be resolved`);
  for (const { address } of addresses) {
    const refusal = addressRefusal(address, policy);
    if (refusal) throw destinationRefused(literal ? refusal : `${host} resolves to ${refusal}`);
  }
  const first = addresses[0] as { address: string; family: number };
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
