/**
 * Review links as credentials, without a server: the signature, the expiry, and revocation with the
 * token that minted them.
 */
import { ReviewLinkSigner } from '../src/review-links';
import { TokenVerifier } from '../src/api/tokens';

const signer = new ReviewLinkSigner('a secret that is long enough for the tests');
const minter = { name: 'acme-tool', token: 'tok_acme_tool_4d1e8b7a92c3f605', scopes: ['sessions:create' as const], tenant: 'acme' };
const claims = { sessionId: 'session-1', name: 'Dana', mintedBy: 'acme-tool', expiresAt: new Date(Date.now() + 60_000) };

test('a minted link checks out with its claims; another key, a later clock or a changed byte does not', () => {
  const link = signer.mint(claims);
  expect(ReviewLinkSigner.looksLikeLink(link)).toBe(true);
  expect(signer.check(link)).toEqual({ ok: true, claims: { ...claims, expiresAt: new Date(Math.floor(claims.expiresAt.getTime() / 1000) * 1000) } });
  expect(new ReviewLinkSigner('another secret, just as long as the first').check(link)).toEqual({ ok: false, problem: 'invalid' });
  expect(signer.check(link, Date.now() + 61_000)).toEqual({ ok: false, problem: 'expired' });
  let changed = 0;
  for (let i = 4; i < link.length; i++) {
    const flipped = link.slice(0, i) + (link[i] === 'A' ? 'B' : 'A') + link.slice(i + 1);
    if (flipped !== link && signer.check(flipped).ok) changed++;
  }
  expect(changed).toBe(0);
});

test("a link's principal reads and reviews its one session; it dies with the token that minted it", () => {
  const link = signer.mint(claims);
  const principal = new TokenVerifier([minter], signer).verify(link);
  expect(principal).toMatchObject({ name: 'link:Dana', session: 'session-1', tenant: 'acme', admin: false });
  expect([...principal!.scopes].sort()).toEqual(['sessions:read', 'sessions:review']);
  const withoutMinter = new TokenVerifier([], signer);
  expect(withoutMinter.verify(link)).toBeUndefined();
  expect(withoutMinter.refusal(link)).toMatch(/revoked/);
  // An API token never passes for a link, nor a link for a token.
  expect(new TokenVerifier([minter], signer).verify(minter.token)?.session).toBeNull();
  expect(new TokenVerifier([minter]).verify(link)).toBeUndefined();
});
