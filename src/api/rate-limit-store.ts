/**
 * Where rate-limit counts live. A verified token's count is kept apart from the per-address counts, so
 * no number of addresses (an IPv6 attacker has billions) can push it out of memory and reset it; the
 * address counts are an LRU, and an IPv6 client is counted by its /64, the block one host usually holds.
 * Counts are per API instance (docs/api.md, "Limits").
 */
import { isIPv6 } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { TokenVerifier } from './tokens';

interface Bucket {
  current: number;
  ttl: number;
  iterationStartMs: number;
}

type Callback = (error: Error | null, result: { current: number; ttl: number }) => void;

/** Address buckets kept at most; beyond it the least recently seen address starts afresh. */
export const ADDRESS_BUCKETS_MAX = 100_000;

/** The rate-limit key of a request: its verified token's name, else its client address (IPv6 by /64). */
export function rateLimitKey(request: Pick<FastifyRequest, 'ip' | 'headers'>, verifier: TokenVerifier, bearer: string | undefined): string {
  const principal = bearer === undefined ? undefined : verifier.verify(bearer);
  return principal ? `principal:${principal.name}` : `ip:${addressBlock(request.ip)}`;
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
  private readonly principals = new Map<string, Bucket>();
  private readonly addresses = new Map<string, Bucket>();

  incr(key: string, callback: Callback, timeWindow: number): void {
    const map = key.startsWith('principal:') ? this.principals : this.addresses;
    const now = Date.now();
    let bucket = map.get(key);
    if (!bucket || bucket.iterationStartMs + timeWindow <= now) bucket = { current: 0, ttl: timeWindow, iterationStartMs: now };
    bucket.current += 1;
    bucket.ttl = timeWindow - (now - bucket.iterationStartMs);
    // Re-inserted, so the map's order is least recently seen first.
    map.delete(key);
    map.set(key, bucket);
    if (map === this.addresses && map.size > ADDRESS_BUCKETS_MAX) map.delete(map.keys().next().value!);
    callback(null, { current: bucket.current, ttl: bucket.ttl });
  }

  child(): PrincipalFirstStore {
    return this;
  }
}
