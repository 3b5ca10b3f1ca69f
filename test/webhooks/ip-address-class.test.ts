import { describe, expect, it } from 'vitest';
import {
  classifyAddress,
  networkContains,
  parseAddress,
  parseNetwork,
  type AddressClass,
} from '../../src/webhooks/ip-address-class.js';
import {
  addressRefusal,
  checkDestination,
  parseDestinationPolicy,
  resolveWithSystem,
} from '../../src/webhooks/webhook-destination.js';

const classOf = (text: string): AddressClass => {
  const parsed = parseAddress(text);
  if (!parsed) throw new Error(`unparsed: ${text}`);
  return classifyAddress(parsed);
};

const cases: [string, AddressClass][] = [
  ['8.8.8.8', 'public'],
  ['1.1.1.1', 'public'],
  ['93.184.215.14', 'public'],
  ['172.15.255.255', 'public'],
  ['172.32.0.1', 'public'],
  ['100.63.255.255', 'public'],
  ['100.128.0.0', 'public'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'reserved'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.169.254', 'link-local'],
  ['169.254.0.1', 'link-local'],
  ['100.64.0.1', 'carrier-grade-nat'],
  ['100.100.100.200', 'carrier-grade-nat'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.1', 'reserved'],
  ['192.0.0.170', 'reserved'],
  ['192.0.2.10', 'documentation'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['198.18.0.1', 'benchmarking'],
  ['2606:4700:4700::1111', 'public'],
  ['2001:4860:4860::8888', 'public'],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['[::1]', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf:ffff::1', 'link-local'],
  ['fc00::1', 'unique-local'],
  ['fd00:ec2::254', 'unique-local'],
  ['fec0::1', 'site-local'],
  ['ff02::1', 'multicast'],
  ['ff05::1:3', 'multicast'],
  ['2001:db8::1', 'documentation'],
  ['3fff::1', 'documentation'],
  ['2001::1', 'reserved'],
  ['100::1', 'reserved'],
  ['::127.0.0.1', 'reserved'],
  ['4000::1', 'reserved'],
  // IPv4-mapped, NAT64 and 6to4 forms are judged by the IPv4 address they carry.
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::FFFF:7F00:0001', 'loopback'],
  ['[::ffff:10.0.0.1]', 'private'],
  ['::ffff:169.254.169.254', 'link-local'],
  ['::ffff:a9fe:a9fe', 'link-local'],
  ['::ffff:100.64.0.1', 'carrier-grade-nat'],
  ['::ffff:0.0.0.0', 'unspecified'],
  ['::ffff:224.0.0.1', 'multicast'],
  ['::ffff:8.8.8.8', 'public'],
  ['64:ff9b::7f00:1', 'loopback'],
  ['64:ff9b::10.1.2.3', 'private'],
  ['64:ff9b::808:808', 'public'],
  ['2002:7f00:1::', 'loopback'],
  ['2002:c0a8:101::1', 'private'],
  ['2002:808:808::1', 'public'],
];

describe('address classes', () => {
  it.each(cases)('%s is %s', (address, expected) => {
    expect(classOf(address)).toBe(expected);
  });

  it.each([
    '256.0.0.1',
    '1.2.3',
    '01.2.3.4',
    '1.2.3.4.5',
    ':::1',
    '1::2::3',
    'gggg::1',
    'localhost',
    '',
    '::ffff:1.2.3.256',
  ])('refuses to parse %s', (text) => {
    expect(parseAddress(text)).toBeNull();
  });

  it('parses operator networks and matches mapped forms against IPv4 ones', () => {
    const loopback = parseNetwork('127.0.0.0/8');
    expect(networkContains(loopback, parseAddress('127.1.2.3')!)).toBe(true);
    expect(networkContains(loopback, parseAddress('::ffff:127.0.0.1')!)).toBe(true);
    expect(networkContains(loopback, parseAddress('128.0.0.1')!)).toBe(false);
    expect(networkContains(parseNetwork('fd12:3456::/32'), parseAddress('fd12:3456:1::9')!)).toBe(true);
    expect(networkContains(parseNetwork('10.1.2.3'), parseAddress('10.1.2.4')!)).toBe(false);
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', 'example.org/8', '10.0.0.0/8/1', '::/129', '10.0.0.0/x'])
      expect(() => parseNetwork(bad), bad).toThrow(/not a network/);
  });
});

describe('destination policy', () => {
  const strict = parseDestinationPolicy({ networks: undefined, allowHttp: false });
  const lenient = parseDestinationPolicy({ networks: '127.0.0.0/8, ::1/128, 10.20.0.0/16', allowHttp: true });

  it('refuses every non-public class without an allowance, and only the allowed ones with it', () => {
    for (const [address, kind] of cases) {
      const refusal = addressRefusal(address.replace(/^\[|\]$/g, ''), strict);
      if (kind === 'public') expect(refusal, address).toBeNull();
      else expect(refusal, address).toContain(kind);
    }
    expect(addressRefusal('127.0.0.1', lenient)).toBeNull();
    expect(addressRefusal('::ffff:127.0.0.1', lenient)).toBeNull();
    expect(addressRefusal('::1', lenient)).toBeNull();
    expect(addressRefusal('10.20.3.4', lenient)).toBeNull();
    expect(addressRefusal('10.21.3.4', lenient)).toContain('private');
    expect(addressRefusal('169.254.169.254', lenient)).toContain('link-local');
    // Nothing can be connected to there, whatever the operator allows.
    const everything = parseDestinationPolicy({ networks: '0.0.0.0/0,::/0', allowHttp: true });
    expect(addressRefusal('0.0.0.0', everything)).toContain('unspecified');
    expect(addressRefusal('224.0.0.1', everything)).toContain('multicast');
    expect(addressRefusal('10.0.0.1', everything)).toBeNull();
  });

  const refused = (promise: Promise<unknown>, detail: RegExp) =>
    expect(promise).rejects.toMatchObject({
      status: 422,
      code: 'webhook-destination-refused',
      detail: expect.stringMatching(detail),
    });

  it('requires https unless WEBHOOK_ALLOW_HTTP, and refuses credentials, fragments and non-URLs', async () => {
    const publicResolver = async () => [{ address: '93.184.215.14', family: 4 }];
    await refused(checkDestination('http://example.org/hook', strict, publicResolver), /only https/);
    await refused(checkDestination('ftp://example.org/hook', lenient, publicResolver), /only http\(s\)/);
    await refused(checkDestination('https://user:pw@example.org/', strict, publicResolver), /credentials/);
    await refused(checkDestination('https://example.org/#x', strict, publicResolver), /fragment/);
    await refused(checkDestination('not a url', strict, publicResolver), /not a URL/);
    const checked = await checkDestination('https://example.org/hook?x=1', strict, publicResolver);
    expect(checked).toMatchObject({ address: '93.184.215.14', family: 4 });
    expect(checked.url.href).toBe('https://example.org/hook?x=1');
  });

  it('checks literal addresses without resolving, in every form', async () => {
    const noResolver = () => Promise.reject(new Error('must not resolve a literal'));
    await refused(checkDestination('https://127.0.0.1/', strict, noResolver), /loopback/);
    await refused(checkDestination('https://[::1]:8443/', strict, noResolver), /loopback/);
    await refused(checkDestination('https://[::ffff:127.0.0.1]/', strict, noResolver), /loopback/);
    await refused(checkDestination('https://[::ffff:a9fe:a9fe]/', strict, noResolver), /link-local/);
    await refused(
      checkDestination('https://169.254.169.254/latest/meta-data', strict, noResolver),
      /link-local/,
    );
    await refused(checkDestination('https://[fd00:ec2::254]/', strict, noResolver), /unique-local/);
    await refused(checkDestination('https://[fe80::1]/', strict, noResolver), /link-local/);
    await refused(checkDestination('https://100.64.0.1/', strict, noResolver), /carrier-grade-nat/);
    await refused(checkDestination('https://0.0.0.0/', strict, noResolver), /unspecified/);
    await refused(checkDestination('https://224.0.0.1/', strict, noResolver), /multicast/);
    // WHATWG URL parsing turns these spellings into 127.0.0.1 before any check sees them.
    await refused(checkDestination('https://2130706433/', strict, noResolver), /loopback/);
    await refused(checkDestination('https://0x7f.1/', strict, noResolver), /loopback/);
    await refused(checkDestination('https://0177.0.0.1/', strict, noResolver), /loopback/);
    expect(await checkDestination('http://127.0.0.1:9/', lenient, noResolver)).toMatchObject({
      address: '127.0.0.1',
    });
  });

  it('refuses a host name that resolves to loopback (real DNS: localhost) unless allowed', async () => {
    await refused(
      checkDestination('https://localhost/hook', strict, resolveWithSystem),
      /localhost resolves to .*loopback/,
    );
    const allowed = await checkDestination('http://localhost/hook', lenient, resolveWithSystem);
    expect(['127.0.0.1', '::1']).toContain(allowed.address);
  });

  it('refuses a name when any of its addresses is refused, and one that does not resolve', async () => {
    const mixed = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
    await refused(checkDestination('https://mixed.example/', strict, mixed), /10\.0\.0\.7 is a private/);
    const mapped = async () => [{ address: '::ffff:192.168.0.1', family: 6 }];
    await refused(checkDestination('https://mapped.example/', strict, mapped), /private/);
    const none = async () => [];
    await refused(checkDestination('https://none.example/', strict, none), /could not be resolved/);
    const failing = () => Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
    await refused(checkDestination('https://nx.example/', strict, failing), /could not be resolved/);
  });
});
