/**
 * The address policy (src/net-addresses.ts) against a table of IANA's IPv4 and IPv6 Special-Purpose
 * Address Registries, written out here on its own: random addresses inside each refused range are refused
 * (named by their entry), random addresses outside every refused range are allowed, and IPv6 forms that
 * carry an IPv4 address are judged by it. Containment is decided here by node:net's BlockList, not by
 * the module's own parser. Seeded (NET_ADDRESSES_SEED overrides it) so a failure can be replayed.
 */
import { BlockList } from 'node:net';
import fc from 'fast-check';
import { addressProblem, urlTargetProblem } from '../src/net-addresses';

const SEED = Number(process.env.NET_ADDRESSES_SEED ?? 22);
const RUNS = 300;

/** Not globally reachable (the registries' "Globally Reachable: False" or "N/A"), plus multicast. */
const REFUSED_V4: [string, string][] = [
  ['0.0.0.0/8', 'This network'],
  ['10.0.0.0/8', 'Private-Use'],
  ['100.64.0.0/10', 'Shared Address Space'],
  ['127.0.0.0/8', 'Loopback'],
  ['169.254.0.0/16', 'Link Local'],
  ['172.16.0.0/12', 'Private-Use'],
  ['192.0.0.0/24', 'IETF Protocol Assignments'],
  ['192.0.2.0/24', 'Documentation (TEST-NET-1)'],
  ['192.88.99.0/24', '6to4 Relay Anycast'],
  ['192.168.0.0/16', 'Private-Use'],
  ['198.18.0.0/15', 'Benchmarking'],
  ['198.51.100.0/24', 'Documentation (TEST-NET-2)'],
  ['203.0.113.0/24', 'Documentation (TEST-NET-3)'],
  ['224.0.0.0/4', 'Multicast'],
  ['240.0.0.0/4', 'Reserved'],
  ['255.255.255.255/32', 'Limited Broadcast'],
];
/** Globally reachable entries inside a refused one. */
const REACHABLE_V4 = ['192.0.0.9/32', '192.0.0.10/32'];

const REFUSED_V6: [string, string][] = [
  // Outside 2000::/3, the only space IANA allocates for global unicast.
  ['::/3', 'Reserved by IETF'],
  ['4000::/2', 'Reserved by IETF'],
  ['8000::/1', 'Reserved by IETF'],
  ['::/128', 'Unspecified'],
  ['::1/128', 'Loopback'],
  ['64:ff9b:1::/48', 'IPv4-IPv6 Translat., local use'],
  ['100::/64', 'Discard-Only'],
  ['100:0:0:1::/64', 'Dummy IPv6 Prefix'],
  ['2001::/23', 'IETF Protocol Assignments'],
  ['2001:2::/48', 'Benchmarking'],
  ['2001:10::/28', 'ORCHID'],
  ['2001:db8::/32', 'Documentation'],
  ['3fff::/20', 'Documentation'],
  ['5f00::/16', 'Segment Routing (SRv6) SIDs'],
  ['fc00::/7', 'Unique-Local'],
  ['fe80::/10', 'Link-Local Unicast'],
  ['fec0::/10', 'Site-Local'],
  ['ff00::/8', 'Multicast'],
];
/** Globally reachable entries inside a refused one, and the forms judged by the IPv4 they carry. */
const REACHABLE_V6 = ['2001:1::1/128', '2001:1::2/128', '2001:1::3/128', '2001:3::/32', '2001:4:112::/48', '2001:20::/28', '2001:30::/28'];
const EMBEDDING_V6 = ['::/96', '::ffff:0:0/96', '::ffff:0:0:0/96', '64:ff9b::/96', '2002::/16', '2001::/32'];

const blockList = (family: 'ipv4' | 'ipv6', cidrs: string[]) => {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network, prefix] = cidr.split('/') as [string, string];
    list.addSubnet(network, Number(prefix), family);
  }
  return list;
};
const single = (family: 'ipv4' | 'ipv6', cidr: string) => blockList(family, [cidr]);
const refusedV4 = blockList('ipv4', REFUSED_V4.map(([cidr]) => cidr));
const reachableV4 = blockList('ipv4', REACHABLE_V4);
const prefixOf = (cidr: string) => Number(cidr.split('/')[1]);
/** The table's verdict on an IPv6 address: its most specific row decides (as in the registry). */
const tableRefusesV6 = (text: string) => {
  const rows = [...REFUSED_V6.map(([cidr]) => ({ cidr, refused: true })), ...[...REACHABLE_V6, ...EMBEDDING_V6].map((cidr) => ({ cidr, refused: false }))];
  const deciding = rows.filter(({ cidr }) => single('ipv6', cidr).check(text, 'ipv6')).sort((a, b) => prefixOf(b.cidr) - prefixOf(a.cidr))[0];
  return deciding?.refused ?? false;
};

const v4Text = (n: bigint) => [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
const v6Words = (n: bigint) => Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
/** An IPv6 address written out in full, or compressed the way WHATWG URL writes it. */
const v6Text = (n: bigint, compressed: boolean) => {
  const full = v6Words(n).map((w) => w.toString(16)).join(':');
  return compressed ? new URL(`http://[${full}]/`).hostname.slice(1, -1) : full;
};
const parseV4 = (text: string) => text.split('.').reduce((v, p) => (v << 8n) | BigInt(p), 0n);
const parseV6Full = (text: string) => {
  const [head = '', tail = ''] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = text.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return words.reduce((v, w) => (v << 16n) | BigInt(parseInt(w, 16)), 0n);
};
const bounds = (cidr: string, bits: 32 | 128) => {
  const [network, prefix] = cidr.split('/') as [string, string];
  const base = bits === 32 ? parseV4(network) : parseV6Full(network);
  const size = 1n << BigInt(bits - Number(prefix));
  return { min: base, max: base + size - 1n };
};
/** The most specific refused row containing an address: the one whose name the refusal must carry. */
const decidingRow = (rows: [string, string][], family: 'ipv4' | 'ipv6', text: string) =>
  rows.filter(([cidr]) => single(family, cidr).check(text, family)).sort((a, b) => prefixOf(b[0]) - prefixOf(a[0]))[0]!;

const settings = { seed: SEED, numRuns: RUNS };
const globalV4 = fc.bigInt(0n, 0xffff_ffffn).filter((n) => !refusedV4.check(v4Text(n), 'ipv4') || reachableV4.check(v4Text(n), 'ipv4'));
const refusedV4Address = fc
  .constantFrom(...REFUSED_V4)
  .chain(([cidr]) => fc.bigInt(bounds(cidr, 32)))
  .filter((n) => !reachableV4.check(v4Text(n), 'ipv4'));

test.each(REFUSED_V4)('IPv4 %s (%s): random addresses inside are refused, named by their entry', (cidr) => {
  const inside = fc.bigInt(bounds(cidr, 32)).filter((n) => !reachableV4.check(v4Text(n), 'ipv4'));
  fc.assert(
    fc.property(inside, (n) => {
      const text = v4Text(n);
      const [decidingCidr, decidingName] = decidingRow(REFUSED_V4, 'ipv4', text);
      expect(addressProblem(text)).toEqual(expect.stringContaining(decidingCidr));
      expect(addressProblem(text)).toEqual(expect.stringContaining(decidingName));
    }),
    settings,
  );
});

test.each(REFUSED_V6)('IPv6 %s (%s): random addresses inside are refused, named by their entry', (cidr) => {
  const inside = fc.tuple(fc.bigInt(bounds(cidr, 128)), fc.boolean()).filter(([n]) => tableRefusesV6(v6Text(n, false)));
  fc.assert(
    fc.property(inside, ([n, compressed]) => {
      const text = v6Text(n, compressed);
      const [decidingCidr, decidingName] = decidingRow(REFUSED_V6, 'ipv6', text);
      const problem = addressProblem(text);
      expect(problem).toEqual(expect.stringContaining(decidingName));
      // The catch-all rows are one entry (::/0 outside 2000::/3) in the module.
      if (decidingName !== 'Reserved by IETF') expect(problem).toEqual(expect.stringContaining(decidingCidr));
    }),
    settings,
  );
});

test('random addresses outside every refused range are allowed (IPv4, and IPv6 global unicast)', () => {
  let v4 = 0;
  fc.assert(
    fc.property(globalV4, (n) => {
      v4++;
      expect(addressProblem(v4Text(n))).toBeUndefined();
    }),
    { ...settings, numRuns: 2_000 },
  );
  let v6 = 0;
  const globalV6 = fc
    .tuple(fc.bigInt(bounds('2000::/3', 128)), fc.boolean())
    .filter(([n]) => !tableRefusesV6(v6Text(n, false)))
    // Teredo and 6to4 carry an IPv4 address: judged by it in the next test.
    .filter(([n]) => !blockList('ipv6', ['2001::/32', '2002::/16']).check(v6Text(n, false), 'ipv6'));
  fc.assert(
    fc.property(globalV6, ([n, compressed]) => {
      v6++;
      expect(addressProblem(v6Text(n, compressed))).toBeUndefined();
    }),
    { ...settings, numRuns: 2_000 },
  );
  // The globally reachable entries inside refused ones, at their edges.
  for (const cidr of REACHABLE_V4) expect(addressProblem(v4Text(bounds(cidr, 32).min))).toBeUndefined();
  for (const cidr of REACHABLE_V6) for (const end of ['min', 'max'] as const) expect(addressProblem(v6Text(bounds(cidr, 128)[end], true))).toBeUndefined();
  console.log(`allowed: ${v4} random IPv4 and ${v6} random IPv6 addresses outside every refused range`);
});

/** The IPv6 forms that carry an IPv4 address, each as the address that carries `v4` (rest random). */
const EMBEDDINGS: [string, (v4: bigint, rest: bigint) => string][] = [
  ['IPv4-mapped ::ffff:0:0/96, dotted', (v4) => `::ffff:${v4Text(v4)}`],
  ['IPv4-mapped ::ffff:0:0/96, hex', (v4) => v6Text((0xffffn << 32n) | v4, true)],
  ['IPv4-compatible ::/96, dotted', (v4) => `::${v4Text(v4)}`],
  ['IPv4-compatible ::/96, hex', (v4) => v6Text(v4, false)],
  ['IPv4-translated ::ffff:0:0:0/96', (v4) => `::ffff:0:${v4Text(v4)}`],
  ['NAT64 64:ff9b::/96', (v4) => v6Text((0x64ff9bn << 96n) | v4, true)],
  ['6to4 2002::/16', (v4, rest) => v6Text((0x2002n << 112n) | (v4 << 80n) | (rest & ((1n << 80n) - 1n)), true)],
  // Server address and flags random; the client's address stored inverted.
  ['Teredo 2001::/32', (v4, rest) => v6Text((0x2001_0000n << 96n) | ((rest & ((1n << 64n) - 1n)) << 32n) | (v4 ^ 0xffff_ffffn), true)],
];
const rest = fc.bigInt(0n, (1n << 80n) - 1n);

test.each(EMBEDDINGS)('%s: judged by the IPv4 it carries (refused inside a refused range, allowed outside)', (_form, embed) => {
  let refused = 0;
  let allowed = 0;
  fc.assert(
    fc.property(refusedV4Address, rest, (v4, r) => {
      const text = embed(v4, r);
      // ::0.0.0.0 and ::0.0.0.1 are the unspecified and loopback addresses, refused as such.
      if (v4 > 1n || !_form.startsWith('IPv4-compatible')) expect(addressProblem(text)).toEqual(expect.stringContaining(`carries ${v4Text(v4)}, which is in ${decidingRow(REFUSED_V4, 'ipv4', v4Text(v4))[0]}`));
      else expect(addressProblem(text)).toBeDefined();
      refused++;
    }),
    settings,
  );
  fc.assert(
    fc.property(globalV4, rest, (v4, r) => {
      expect(addressProblem(embed(v4, r))).toBeUndefined();
      allowed++;
    }),
    settings,
  );
  console.log(`${_form}: ${refused} refused, ${allowed} allowed`);
});

test('anything that is not an IP address is refused; a zone is ignored', () => {
  for (const text of ['', 'example.com', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', ':::']) {
    expect(addressProblem(text)).toMatch(/not an IP address/);
  }
  expect(addressProblem('fe80::1%eth0')).toMatch(/Link-Local/);
  expect(addressProblem('[2606:4700:4700::1111]')).toBeUndefined();
});

test('URLs: IPv4 spellings are judged as the address they mean, local names refused, denied ports refused on any host', () => {
  const strict = { allowPrivate: false };
  expect(urlTargetProblem('http://0x7f.1/x', strict)).toMatch(/127\.0\.0\.1 is in 127\.0\.0\.0\/8, Loopback/);
  expect(urlTargetProblem('http://2130706433/x', strict)).toMatch(/Loopback/);
  expect(urlTargetProblem('http://[::ffff:7f00:1]/x', strict)).toMatch(/IPv4-mapped Address.*carries 127\.0\.0\.1, which is in 127\.0\.0\.0\/8/);
  expect(urlTargetProblem('http://svc.internal/x', strict)).toMatch(/local name/);
  expect(urlTargetProblem('https://hooks.example.com/x', strict)).toBeUndefined();
  expect(urlTargetProblem('https://8.8.8.8/x', strict)).toBeUndefined();
  const local = { allowPrivate: true, deniedPorts: [7233, 80] };
  expect(urlTargetProblem('http://127.0.0.1:7233/', local)).toMatch(/port 7233 is one of this service's own/);
  expect(urlTargetProblem('http://localhost:07233/', local)).toMatch(/port 7233/);
  expect(urlTargetProblem('http://[::1]/', local)).toMatch(/port 80/);
  expect(urlTargetProblem('https://[::1]/', local)).toBeUndefined();
  expect(urlTargetProblem('http://127.0.0.1:7234/', local)).toBeUndefined();
  expect(urlTargetProblem('ftp://example.com/', local)).toMatch(/not http/);
});
