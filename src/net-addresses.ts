/**
 * The address policy: where the service may send to on a caller's behalf (notification URLs, checked by
 * the API at create and by the worker before every connection). It follows IANA's IPv4 and IPv6
 * Special-Purpose Address Registries: every entry that is not globally reachable is refused, and so are
 * multicast, the IPv6 space IANA keeps reserved (outside 2000::/3) and deprecated ranges. Forms that carry
 * an IPv4 address inside an IPv6 one (IPv4-mapped, -compatible, -translated, NAT64, 6to4, Teredo) are
 * judged by the IPv4 they carry, so `[2002:7f00:1::1]` is loopback as surely as 127.0.0.1 is.
 *
 * The most specific entry containing an address decides, as in the registries themselves, where a
 * globally reachable /32 (PCP anycast, 192.0.0.9) sits inside a refused /24.
 */

/** How an entry judges the addresses in it. */
type Verdict =
  | 'refused' // not globally reachable
  | 'allowed' // globally reachable
  | { embedded: (address: bigint) => bigint }; // judged by the IPv4 address it carries

export interface AddressRange {
  family: 4 | 6;
  /** The network in its usual text form, for example `192.0.2.0/24`. */
  cidr: string;
  /** The registry's name of the entry (the registry's own, or the one it is listed in). */
  name: string;
  verdict: Verdict;
}

const low32 = (address: bigint) => address & 0xffff_ffffn;

/** IANA IPv4 Special-Purpose Address Registry (plus multicast, from the IPv4 Multicast registry). */
const IPV4: readonly (readonly [string, string, Verdict])[] = [
  ['0.0.0.0/8', '"This network" (RFC 791)', 'refused'],
  ['10.0.0.0/8', 'Private-Use (RFC 1918)', 'refused'],
  ['100.64.0.0/10', 'Shared Address Space (RFC 6598)', 'refused'],
  ['127.0.0.0/8', 'Loopback (RFC 1122)', 'refused'],
  ['169.254.0.0/16', 'Link Local (RFC 3927)', 'refused'],
  ['172.16.0.0/12', 'Private-Use (RFC 1918)', 'refused'],
  ['192.0.0.0/24', 'IETF Protocol Assignments (RFC 6890)', 'refused'],
  ['192.0.0.9/32', 'Port Control Protocol Anycast (RFC 7723)', 'allowed'],
  ['192.0.0.10/32', 'Traversal Using Relays around NAT Anycast (RFC 8155)', 'allowed'],
  ['192.0.2.0/24', 'Documentation (TEST-NET-1) (RFC 5737)', 'refused'],
  ['192.88.99.0/24', 'Deprecated (6to4 Relay Anycast) (RFC 7526)', 'refused'],
  ['192.168.0.0/16', 'Private-Use (RFC 1918)', 'refused'],
  ['198.18.0.0/15', 'Benchmarking (RFC 2544)', 'refused'],
  ['198.51.100.0/24', 'Documentation (TEST-NET-2) (RFC 5737)', 'refused'],
  ['203.0.113.0/24', 'Documentation (TEST-NET-3) (RFC 5737)', 'refused'],
  ['224.0.0.0/4', 'Multicast (RFC 5771)', 'refused'],
  ['240.0.0.0/4', 'Reserved (RFC 1112)', 'refused'],
  ['255.255.255.255/32', 'Limited Broadcast (RFC 919)', 'refused'],
];

/**
 * IANA IPv6 Special-Purpose Address Registry, inside the IPv6 Address Space registry: only 2000::/3 is
 * global unicast; the rest is reserved by the IETF, unique-local, link-local, site-local or multicast.
 */
const IPV6: readonly (readonly [string, string, Verdict])[] = [
  ['::/0', 'Reserved by IETF (outside Global Unicast 2000::/3) (RFC 4291)', 'refused'],
  ['2000::/3', 'Global Unicast (RFC 4291)', 'allowed'],
  ['::/128', 'Unspecified Address (RFC 4291)', 'refused'],
  ['::1/128', 'Loopback Address (RFC 4291)', 'refused'],
  ['::/96', 'IPv4-compatible Address, deprecated (RFC 4291)', { embedded: low32 }],
  ['::ffff:0:0/96', 'IPv4-mapped Address (RFC 4291)', { embedded: low32 }],
  ['::ffff:0:0:0/96', 'IPv4-translated Address (RFC 2765)', { embedded: low32 }],
  ['64:ff9b::/96', 'IPv4-IPv6 Translat. (RFC 6052)', { embedded: low32 }],
  ['64:ff9b:1::/48', 'IPv4-IPv6 Translat., local use (RFC 8215)', 'refused'],
  ['100::/64', 'Discard-Only Address Block (RFC 6666)', 'refused'],
  ['100:0:0:1::/64', 'Dummy IPv6 Prefix (RFC 9780)', 'refused'],
  ['2001::/23', 'IETF Protocol Assignments (RFC 2928)', 'refused'],
  // The client's public address, stored with every bit inverted (RFC 4380, section 4).
  ['2001::/32', 'TEREDO (RFC 4380)', { embedded: (address) => low32(address) ^ 0xffff_ffffn }],
  ['2001:1::1/128', 'Port Control Protocol Anycast (RFC 7723)', 'allowed'],
  ['2001:1::2/128', 'Traversal Using Relays around NAT Anycast (RFC 8155)', 'allowed'],
  ['2001:1::3/128', 'DNS-SD Service Registration Protocol Anycast (RFC 9665)', 'allowed'],
  ['2001:2::/48', 'Benchmarking (RFC 5180)', 'refused'],
  ['2001:3::/32', 'AMT (RFC 7450)', 'allowed'],
  ['2001:4:112::/48', 'AS112-v6 (RFC 7535)', 'allowed'],
  ['2001:10::/28', 'Deprecated (previously ORCHID) (RFC 4843)', 'refused'],
  ['2001:20::/28', 'ORCHIDv2 (RFC 7343)', 'allowed'],
  ['2001:30::/28', 'Drone Remote ID Protocol Entity Tags (DETs) Prefix (RFC 9374)', 'allowed'],
  ['2001:db8::/32', 'Documentation (RFC 3849)', 'refused'],
  // The IPv4 address of the site's 6to4 router, in bits 16 to 47 (RFC 3056).
  ['2002::/16', '6to4 (RFC 3056)', { embedded: (address) => (address >> 80n) & 0xffff_ffffn }],
  ['3fff::/20', 'Documentation (RFC 9637)', 'refused'],
  ['5f00::/16', 'Segment Routing (SRv6) SIDs (RFC 9602)', 'refused'],
  ['fc00::/7', 'Unique-Local (RFC 4193)', 'refused'],
  ['fe80::/10', 'Link-Local Unicast (RFC 4291)', 'refused'],
  ['fec0::/10', 'Site-Local, deprecated (RFC 3879)', 'refused'],
  ['ff00::/8', 'Multicast (RFC 4291)', 'refused'],
];

interface Entry extends AddressRange {
  network: bigint;
  prefix: number;
}

function entry(family: 4 | 6, [cidr, name, verdict]: readonly [string, string, Verdict]): Entry {
  const [text, prefix] = cidr.split('/') as [string, string];
  const network = family === 4 ? parseIPv4(text) : parseIPv6(text);
  if (network === undefined) throw new Error(`bad range ${cidr}`);
  return { family, cidr, name, verdict, network, prefix: Number(prefix) };
}

// Most specific first, so the first entry that contains an address is the one that decides.
const V4 = IPV4.map((e) => entry(4, e)).sort((a, b) => b.prefix - a.prefix);
const V6 = IPV6.map((e) => entry(6, e)).sort((a, b) => b.prefix - a.prefix);

/** Every range of the policy, with its registry name (the tests check the policy against this table). */
export const ADDRESS_RANGES: readonly AddressRange[] = [...V4, ...V6].map(({ family, cidr, name, verdict }) => ({ family, cidr, name, verdict }));

function contains(entry: Entry, address: bigint): boolean {
  const bits = BigInt(entry.family === 4 ? 32 : 128);
  const shift = bits - BigInt(entry.prefix);
  return address >> shift === entry.network >> shift;
}

export function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((value, part) => (value << 8n) | BigInt(part), 0n);
}

export function parseIPv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const words: number[] = [];
    const parts = half.split(':');
    for (const [index, part] of parts.entries()) {
      if (index === parts.length - 1 && part.includes('.')) {
        const v4 = parseIPv4(part);
        if (v4 === undefined) return undefined;
        words.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-f]{1,4}$/i.test(part)) {
        words.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return words;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail].reduce((value, word) => (value << 16n) | BigInt(word), 0n);
}

function formatIPv4(address: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((address >> shift) & 0xffn)).join('.');
}

function judgeIPv4(address: bigint, shown: string): string | undefined {
  const decider = V4.find((e) => contains(e, address));
  if (decider && decider.verdict === 'refused') return `${shown} is in ${decider.cidr}, ${decider.name}, not globally reachable`;
  return undefined;
}

/**
 * Why an IP address may not be sent to (the registry entry that refuses it), or undefined when it is
 * globally reachable. Anything that is not an IP address is refused. A zone (`fe80::1%eth0`) is ignored.
 */
export function addressProblem(address: string): string | undefined {
  const text = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return judgeIPv4(v4, text);
  const v6 = parseIPv6(text);
  if (v6 === undefined) return `${address} is not an IP address`;
  const decider = V6.find((e) => contains(e, v6))!;
  if (decider.verdict === 'allowed') return undefined;
  if (decider.verdict === 'refused') return `${text} is in ${decider.cidr}, ${decider.name}, not globally reachable`;
  const embedded = decider.verdict.embedded(v6);
  const problem = judgeIPv4(embedded, formatIPv4(embedded));
  return problem && `${text} (${decider.name}) carries ${problem.replace(' is in ', ', which is in ')}`;
}

/** Whether an IP address is one we refuse to send to (see {@link addressProblem}). */
export function isPrivateAddress(address: string): boolean {
  return addressProblem(address) !== undefined;
}

/** Where notifications may go, as configured (src/config/notify.ts). */
export interface TargetPolicy {
  /** Private and reserved addresses and local names allowed (NOTIFY_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Ports never sent to, on any address: where this machine's own services listen (NOTIFY_DENIED_PORTS). */
  deniedPorts?: readonly number[];
}

const LOCAL_NAME = /(^|\.)(localhost|local|internal)$/;

/**
 * Why a URL may not be sent to, judged from its text alone: not http(s), a port of ours, an IP literal the
 * policy refuses, a local name. Undefined if none. Names are checked again, as resolved, by the worker.
 */
export function urlTargetProblem(url: string, policy: TargetPolicy = { allowPrivate: false }): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `${parsed.protocol} is not http(s)`;
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  if (policy.deniedPorts?.includes(port)) return `port ${port} is one of this service's own (NOTIFY_DENIED_PORTS)`;
  if (policy.allowPrivate) return undefined;
  // WHATWG URL has already turned every IPv4 spelling (0x7f.1, 2130706433) into dotted decimal.
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (parseIPv4(host) !== undefined || host.includes(':')) {
    const problem = addressProblem(host);
    return problem && `${problem} (NOTIFY_ALLOW_PRIVATE=true allows private addresses)`;
  }
  if (LOCAL_NAME.test(host)) return `${host} is a local name (NOTIFY_ALLOW_PRIVATE=true allows it)`;
  return undefined;
}
