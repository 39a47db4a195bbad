/**
 * Where rate-limit counts live. A verified token's count is kept apart from the per-address counts, so
 * no number of addresses (an IPv6 attacker has billions) can push it out of memory and reset it; the
 * address counts are an LRU, and an IPv6 client is counted by its /64, the block one host usually holds.
 * Review links are counted by the token that minted them and the session they open, not by the name
 * they carry (which anyone minting may choose): however many links a token mints for a session, they
 * share one budget, and another tenant's link of the same name has its own. Link counts are an LRU too
 * (sessions come and go), and every map drops counts whose window has passed as it goes.
 * Counts are per API instance (docs/api.md, "Limits").
 */
import { isIPv6 } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { Principal, TokenVerifier } from './tokens';

interface Bucket {
  current: number;
  ttl: number;
  iterationStartMs: number;
}

type Callback = (error: Error | null, result: { current: number; ttl: number }) => void;

/** Address buckets kept at most; beyond it the least recently seen address starts afresh. */
export const ADDRESS_BUCKETS_MAX = 100_000;
/** Link buckets (minting token × session) kept at most; beyond it the least recently seen starts afresh. */
export const LINK_BUCKETS_MAX = 100_000;

/** The rate-limit key of a principal: a token's name, or a link's minting token and session. */
export function principalKey(principal: Pick<Principal, 'name' | 'session' | 'mintedBy'>): string {
  return principal.session !== null ? `link:${principal.mintedBy ?? ''}\n${principal.session}` : `principal:${principal.name}`;
}

/** The rate-limit key of a request: its verified credential's (above), else its client address (IPv6 by /64). */
export function rateLimitKey(request: Pick<FastifyRequest, 'ip' | 'headers'>, verifier: TokenVerifier, bearer: string | undefined): string {
  const principal = bearer === undefined ? undefined : verifier.verify(bearer);
  return principal ? principalKey(principal) : `ip:${addressBlock(request.ip)}`;
}

export function addressBlock(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...headParts, ...Array(8 - headParts.length - tailParts.length).fill('0'), ...tailParts] : headParts;
  return `${groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16)).join(':')}::/64`;
}

/** The store interface of @fastify/rate-limit: `incr` counts a request in its window. */
export class PrincipalFirstStore {
  /** API tokens: as many as are configured. */
  private readonly principals = new Map<string, Bucket>();
  private readonly links = new Map<string, Bucket>();
  private readonly addresses = new Map<string, Bucket>();

  incr(key: string, callback: Callback, timeWindow: number): void {
    const map = key.startsWith('principal:') ? this.principals : key.startsWith('link:') ? this.links : this.addresses;
    const now = Date.now();
    let bucket = map.get(key);
    if (!bucket || bucket.iterationStartMs + timeWindow <= now) bucket = { current: 0, ttl: timeWindow, iterationStartMs: now };
    bucket.current += 1;
    bucket.ttl = timeWindow - (now - bucket.iterationStartMs);
    // Re-inserted, so the map's order is least recently seen first.
    map.delete(key);
    map.set(key, bucket);
    trim(map, now, timeWindow, map === this.principals ? Infinity : map === this.links ? LINK_BUCKETS_MAX : ADDRESS_BUCKETS_MAX);
    callback(null, { current: bucket.current, ttl: bucket.ttl });
  }

  /** Counts held, per kind (for tests and metrics). */
  get size(): { principals: number; links: number; addresses: number } {
    return { principals: this.principals.size, links: this.links.size, addresses: this.addresses.size };
  }

  child(): PrincipalFirstStore {
    return this;
  }
}

/**
 * Drops the least recently seen counts while their window has passed (they would start afresh anyway),
 * then while the map holds more than `max`. The map's order is least recently seen first, so this stops
 * at the first live count: a few steps per request.
 */
function trim(map: Map<string, Bucket>, now: number, timeWindow: number, max: number): void {
  for (const [key, bucket] of map) {
    if (bucket.iterationStartMs + timeWindow > now && map.size <= max) break;
    map.delete(key);
  }
}
