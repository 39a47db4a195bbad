/**
 * Review links as credentials, without a server: the signature, the expiry, and revocation with the
 * token that minted them (its value, tenant and scopes, as they were then).
 */
import { ReviewLinkSigner } from '../src/review-links';
import { TokenVerifier } from '../src/api/tokens';

const signer = new ReviewLinkSigner('a secret that is long enough for the tests');
const minter = { name: 'acme-tool', token: 'tok_acme_tool_4d1e8b7a92c3f605', scopes: ['sessions:review' as const, 'sessions:read' as const], tenant: 'acme' };
const claims = { sessionId: 'session-1', name: 'Dana', expiresAt: new Date(Date.now() + 60_000) };

test('a minted link checks out with its claims and its id; another key, a later clock or a changed byte does not', () => {
  const { credential: link, id } = signer.mint(claims, signer.minterOf(minter));
  expect(ReviewLinkSigner.looksLikeLink(link)).toBe(true);
  expect(signer.check(link)).toEqual({
    ok: true,
    link: { ...claims, id, expiresAt: new Date(Math.floor(claims.expiresAt.getTime() / 1000) * 1000), minter: signer.minterOf(minter) },
  });
  expect(new ReviewLinkSigner('another secret, just as long as the first').check(link)).toEqual({ ok: false, problem: 'invalid' });
  expect(signer.check(link, Date.now() + 61_000)).toEqual({ ok: false, problem: 'expired' });
  let changed = 0;
  for (let i = 4; i < link.length; i++) {
    const flipped = link.slice(0, i) + (link[i] === 'A' ? 'B' : 'A') + link.slice(i + 1);
    if (flipped !== link && signer.check(flipped).ok) changed++;
  }
  expect(changed).toBe(0);
  // The link carries a keyed fingerprint of the token, never the token (nor its plain hash).
  expect(Buffer.from(link.split('.')[1]!, 'base64url').toString()).not.toContain(minter.token);
  expect(signer.minterOf({ ...minter, token: `${minter.token}x` }).fingerprint).not.toBe(signer.minterOf(minter).fingerprint);
});

test("a link's principal reads and reviews its one session; it dies with the token that minted it, or with any change to it", () => {
  const { credential: link, id } = signer.mint(claims, signer.minterOf(minter));
  const principal = new TokenVerifier([minter], signer).verify(link);
  expect(principal).toMatchObject({ name: 'link:Dana', session: 'session-1', tenant: 'acme', admin: false, linkId: id });
  expect([...principal!.scopes].sort()).toEqual(['sessions:read', 'sessions:review']);
  const changed = {
    removed: [],
    rotated: [{ ...minter, token: 'tok_acme_tool_rotated_0000000' }],
    movedTenant: [{ ...minter, tenant: 'globex' }],
    noTenant: [{ ...minter, tenant: undefined }],
    fewerScopes: [{ ...minter, scopes: ['sessions:read' as const] }],
    moreScopes: [{ ...minter, scopes: [...minter.scopes, 'sessions:stop' as const] }],
  };
  for (const [what, tokens] of Object.entries(changed)) {
    const verifier = new TokenVerifier(tokens, signer);
    expect([what, verifier.verify(link)]).toEqual([what, undefined]);
    expect(verifier.refusal(link)).toMatch(/revoked/);
  }
  // Scopes in another order are the same scopes.
  expect(new TokenVerifier([{ ...minter, scopes: [...minter.scopes].reverse() }], signer).verify(link)?.session).toBe('session-1');
  // An API token never passes for a link, nor a link for a token.
  expect(new TokenVerifier([minter], signer).verify(minter.token)?.session).toBeNull();
  expect(new TokenVerifier([minter]).verify(link)).toBeUndefined();
});
