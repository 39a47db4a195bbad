/**
 * The rate-limit store: a verified token's count cannot be flushed by addresses, however many; IPv6
 * clients are counted by their /64.
 */
import { ADDRESS_BUCKETS_MAX, addressBlock, PrincipalFirstStore, rateLimitKey } from '../../src/api/rate-limit-store';
import { TokenVerifier } from '../../src/api/tokens';

const WINDOW = 60_000;
const count = (store: PrincipalFirstStore, key: string) => {
  let current = 0;
  store.incr(key, (_error, result) => (current = result.current), WINDOW);
  return current;
};

test('an exhausted token stays exhausted while more addresses than the store holds come and go', () => {
  const store = new PrincipalFirstStore();
  for (let i = 0; i < 600; i++) count(store, 'principal:acme-tool');
  const flood = ADDRESS_BUCKETS_MAX + 5_000;
  for (let i = 0; i < flood; i++) count(store, `ip:2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`);
  const after = count(store, 'principal:acme-tool');
  console.log(`token count after ${flood} distinct addresses: ${after}`);
  expect(after).toBe(601);
});

test('the address store forgets the least recently seen address first', () => {
  const store = new PrincipalFirstStore();
  count(store, 'ip:10.0.0.1');
  count(store, 'ip:10.0.0.1');
  for (let i = 0; i < ADDRESS_BUCKETS_MAX; i++) count(store, `ip:fd00:${i}`);
  expect(count(store, 'ip:10.0.0.1')).toBe(1);
});

test.each([
  ['203.0.113.7', '203.0.113.7'],
  ['::ffff:203.0.113.7', '203.0.113.7'],
  ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
  ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
  ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
  ['2001:db8::1', '2001:db8:0:0::/64'],
  ['::1', '0:0:0:0::/64'],
])('%s is counted as %s', (ip, block) => {
  expect(addressBlock(ip)).toBe(block);
});

test('a verified token is keyed by its name; a made-up one by its address', () => {
  const verifier = new TokenVerifier([{ name: 'acme-tool', token: 'tok_acme_tool_4d1e8b7a92c3f605', scopes: ['sessions:read'] }]);
  const request = { ip: '2001:db8:1:2::7', headers: {} };
  expect(rateLimitKey(request, verifier, 'tok_acme_tool_4d1e8b7a92c3f605')).toBe('principal:acme-tool');
  expect(rateLimitKey(request, verifier, 'tok_made_up_123456789')).toBe('ip:2001:db8:1:2::/64');
  expect(rateLimitKey(request, verifier, undefined)).toBe('ip:2001:db8:1:2::/64');
});
