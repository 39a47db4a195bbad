/**
 * The rate-limit store: a verified token's count cannot be flushed by addresses, however many; IPv6
 * clients are counted by their /64.
 */
import { ADDRESS_BUCKETS_MAX, addressBlock, LINK_BUCKETS_MAX, PrincipalFirstStore, rateLimitKey } from '../../src/api/rate-limit-store';
import { TokenVerifier } from '../../src/api/tokens';
import { ReviewLinkSigner } from '../../src/review-links';

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

test("a review link is keyed by its minting token and session, not by the name it carries (issue 22, defect 4)", () => {
  const signer = new ReviewLinkSigner('a secret that is long enough for the tests');
  const acme = { name: 'acme-tool', token: 'tok_acme_tool_4d1e8b7a92c3f605', scopes: ['sessions:review' as const], tenant: 'acme' };
  const globex = { name: 'globex-tool', token: 'tok_globex_tool_8e7f6a5b4c3d2e10', scopes: ['sessions:review' as const], tenant: 'globex' };
  const verifier = new TokenVerifier([acme, globex], signer);
  const link = (minter: typeof acme, sessionId: string, name: string) =>
    signer.mint({ sessionId, name, expiresAt: new Date(Date.now() + 60_000) }, signer.minterOf(minter)).credential;
  const keyOf = (credential: string) => rateLimitKey({ ip: '10.0.0.1', headers: {} }, verifier, credential);
  // Two names, one minter and session: one key. The same name from another tenant's token: another.
  expect(keyOf(link(acme, 'session-1', 'Dana23041'))).toBe(keyOf(link(acme, 'session-1', 'Eve')));
  expect(keyOf(link(acme, 'session-1', 'Dana23041'))).not.toBe(keyOf(link(globex, 'session-1', 'Dana23041')));
  expect(keyOf(link(acme, 'session-1', 'Dana23041'))).not.toBe(keyOf(link(acme, 'session-2', 'Dana23041')));
  expect(keyOf(link(acme, 'session-1', 'Dana23041'))).not.toBe(keyOf(acme.token));
});

test('link counts are bounded, and counts whose window has passed are dropped as the store goes (issue 22, defect 4)', () => {
  const store = new PrincipalFirstStore();
  const now = jest.spyOn(Date, 'now');
  try {
    now.mockReturnValue(1_000_000);
    const flood = LINK_BUCKETS_MAX + 5_000;
    for (let i = 0; i < flood; i++) count(store, `link:acme-tool\nsession-${i}`);
    console.log(`link counts held after ${flood} sessions in one window: ${store.size.links}`);
    expect(store.size.links).toBe(LINK_BUCKETS_MAX);
    // A window later, each new count drops the stale ones ahead of it.
    now.mockReturnValue(1_000_000 + WINDOW);
    count(store, 'link:acme-tool\nsession-new');
    count(store, 'ip:10.0.0.9');
    console.log(`held a window later: ${JSON.stringify(store.size)}`);
    expect(store.size.links).toBe(1);
  } finally {
    now.mockRestore();
  }
});
