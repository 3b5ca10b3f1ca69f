import { isIP } from 'node:net';

/** What kind of address an IP is; only `public` is a webhook destination without an operator allowance. */
export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'carrier-grade-nat'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'unique-local'
  | 'site-local'
  | 'reserved';

export interface ParsedAddress {
  family: 4 | 6;
  /** The address as a number (32 or 128 bits). */
  value: bigint;
}

type Range = readonly [base: string, prefix: number, kind: AddressClass | 'embedded-ipv4'];

// Most specific first: the first range that holds the address decides.
const ipv4Ranges: readonly Range[] = [
  ['0.0.0.0', 32, 'unspecified'],
  ['0.0.0.0', 8, 'reserved'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade-nat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['255.255.255.255', 32, 'broadcast'],
  ['240.0.0.0', 4, 'reserved'],
];

// Forms that carry an IPv4 address (mapped, NAT64, 6to4) are judged by that address.
const ipv6Ranges: readonly Range[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::ffff:0:0', 96, 'embedded-ipv4'],
  ['::', 96, 'reserved'],
  ['64:ff9b::', 96, 'embedded-ipv4'],
  ['64:ff9b:1::', 48, 'reserved'],
  ['100::', 64, 'reserved'],
  ['2001::', 32, 'reserved'],
  ['2001:db8::', 32, 'documentation'],
  ['2001::', 23, 'reserved'],
  ['2002::', 16, 'embedded-ipv4'],
  ['3fff::', 20, 'documentation'],
  ['2000::', 3, 'public'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255))
    return null;
  return parts.reduce((value, part) => (value << 8n) | BigInt(part), 0n);
}

function parseIpv6(text: string): bigint | null {
  let rest = text.toLowerCase().split('%')[0] ?? '';
  const lastColon = rest.lastIndexOf(':');
  const last = rest.slice(lastColon + 1);
  if (last.includes('.')) {
    // A dotted IPv4 tail (`::ffff:127.0.0.1`) is two hextets written another way.
    const ipv4 = parseIpv4(last);
    if (ipv4 === null) return null;
    rest = `${rest.slice(0, lastColon + 1)}${(ipv4 >> 16n).toString(16)}:${(ipv4 & 0xffffn).toString(16)}`;
  }
  const halves = rest.split('::');
  if (halves.length > 2) return null;
  const words = (half: string | undefined) => (half ? half.split(':') : []);
  const head = words(halves[0]);
  const back = halves.length === 2 ? words(halves[1]) : [];
  const given = head.length + back.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const hextets = [...head, ...Array<string>(8 - given).fill('0'), ...back];
  if (!hextets.every((word) => /^[0-9a-f]{1,4}$/.test(word))) return null;
  return hextets.reduce((value, word) => (value << 16n) | BigInt(parseInt(word, 16)), 0n);
}

/** An IP address in any textual form Node accepts (IPv6 with or without brackets and zone); null if not one. */
export function parseAddress(text: string): ParsedAddress | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const version = isIP(bare.split('%')[0] ?? '');
  if (version === 4) {
    const value = parseIpv4(bare);
    return value === null ? null : { family: 4, value };
  }
  if (version === 6) {
    const value = parseIpv6(bare);
    return value === null ? null : { family: 6, value };
  }
  return null;
}

const inRange = (address: ParsedAddress, base: bigint, prefix: number) => {
  const bits = address.family === 4 ? 32 : 128;
  const shift = BigInt(bits - prefix);
  return address.value >> shift === base >> shift;
};

const parsedRanges = (ranges: readonly Range[]) =>
  ranges.map(([base, prefix, kind]) => ({ base: parseAddress(base)?.value ?? 0n, prefix, kind }));
const ipv4Table = parsedRanges(ipv4Ranges);
const ipv6Table = parsedRanges(ipv6Ranges);

/** The IPv4 address an IPv6 address carries (mapped, NAT64 /96, 6to4), if it is of such a form. */
export function embeddedIpv4(address: ParsedAddress): ParsedAddress | null {
  if (address.family !== 6) return null;
  const hit = ipv6Table.find((range) => inRange(address, range.base, range.prefix));
  if (hit?.kind !== 'embedded-ipv4') return null;
  const is6to4 = address.value >> 112n === 0x2002n;
  const value = is6to4 ? (address.value >> 80n) & 0xffffffffn : address.value & 0xffffffffn;
  return { family: 4, value };
}

export function classifyAddress(address: ParsedAddress): AddressClass {
  const embedded = embeddedIpv4(address);
  if (embedded) return classifyAddress(embedded);
  const table = address.family === 4 ? ipv4Table : ipv6Table;
  const hit = table.find((range) => inRange(address, range.base, range.prefix));
  if (!hit) return address.family === 4 ? 'public' : 'reserved';
  return hit.kind === 'embedded-ipv4' ? 'reserved' : hit.kind;
}

/** An operator's CIDR (`10.0.0.0/8`, `::1/128`, or a bare address); throws on a malformed one. */
export interface Network {
  base: ParsedAddress;
  prefix: number;
}

export function parseNetwork(text: string): Network {
  const [address, prefixText, extra] = text.trim().split('/');
  const base = parseAddress(address ?? '');
  if (!base || extra !== undefined) throw new Error(`not a network: ${text}`);
  const bits = base.family === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) throw new Error(`not a network: ${text}`);
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) throw new Error(`not a network: ${text}`);
  return { base, prefix };
}

/** Whether the address, or the IPv4 address it carries, lies in the network. */
export function networkContains(network: Network, address: ParsedAddress): boolean {
  const candidates = [address, embeddedIpv4(address)].filter((one): one is ParsedAddress => one !== null);
  return candidates.some(
    (candidate) =>
      candidate.family === network.base.family && inRange(candidate, network.base.value, network.prefix),
  );
}
