/**
 * API bearer tokens: who may call, with which scopes, for which tenant. Declared in API_TOKENS (a JSON
 * array) or API_TOKENS_FILE (a file holding the same array). Checked in constant time; never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiToken, Scope } from '../contract/tokens';
import { ReviewLinkSigner, sameMinter, type CheckedLink, type LinkMinter } from '../review-links';

export { ApiTokenSchema, ApiTokensJsonSchema, SCOPES, type ApiToken, type Scope } from '../contract/tokens';

export interface Principal {
  name: string;
  scopes: ReadonlySet<Scope>;
  tenant: string | null;
  admin: boolean;
  /** Where this token's sessions notify by default. */
  notifyUrl: string | null;
  /** Whether the token has a secret to sign notifications with (the worker holds it). */
  signsNotifications: boolean;
  /** A review link's principal: the one session it opens (null for an API token). */
  session: string | null;
  /** A review link's id, by which it is revoked alone (null for an API token). */
  linkId: string | null;
  /** The name of the token that minted a review link (null for an API token): its links share a rate limit per session. */
  mintedBy: string | null;
  /** What the links this token mints are bound to (null for a link, or without a link signer). */
  minter: LinkMinter | null;
}

/** What a review link may do: read its session and decide at its checkpoints. */
const LINK_SCOPES: ReadonlySet<Scope> = new Set(['sessions:read', 'sessions:review']);

const digest = (token: string) => createHash('sha256').update(token).digest();

export class TokenVerifier {
  private readonly entries: { digest: Buffer; principal: Principal }[];

  private readonly minters: ReadonlyMap<string, LinkMinter>;

  constructor(
    tokens: readonly ApiToken[],
    private readonly links?: ReviewLinkSigner,
  ) {
    this.entries = tokens.map((token) => ({
      digest: digest(token.token),
      principal: {
        name: token.name,
        scopes: new Set(token.scopes),
        tenant: token.tenant ?? null,
        admin: token.scopes.includes('admin'),
        notifyUrl: token.notifyUrl ?? null,
        signsNotifications: token.notifySecret !== undefined,
        session: null,
        linkId: null,
        mintedBy: null,
        minter: links ? links.minterOf(token) : null,
      },
    }));
    this.minters = new Map(this.entries.flatMap(({ principal }) => (principal.minter ? [[principal.name, principal.minter] as const] : [])));
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * The principal of a presented token or review link. Tokens are compared against every token, in
   * constant time each; a link must be signed, unexpired, and minted by a token that is still what it was
   * then (its value, tenant and scopes). The one check of a link's credential, for a request and for each
   * event of a live stream alike (its revocation by id is the session's: SessionsService checks it).
   */
  verify(presented: string): Principal | undefined {
    if (ReviewLinkSigner.looksLikeLink(presented)) return this.linkPrincipal(presented);
    const candidate = digest(presented);
    let match: Principal | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, candidate)) match = entry.principal;
    }
    return match;
  }

  /** Why a presented credential is refused, in words for the person holding it. */
  refusal(presented: string): string | undefined {
    if (!this.links || !ReviewLinkSigner.looksLikeLink(presented)) return undefined;
    const check = this.links.check(presented);
    if (!check.ok) return check.problem === 'expired' ? 'This review link has expired; ask for a new one.' : 'This review link is not valid (it may have been changed or revoked).';
    return this.boundMinter(check.link) ? undefined : 'This review link was revoked: the token that made it has changed or no longer exists.';
  }

  private linkPrincipal(presented: string): Principal | undefined {
    const check = this.links?.check(presented);
    if (!check?.ok) return undefined;
    const minter = this.boundMinter(check.link);
    if (!minter) return undefined;
    return {
      name: `link:${check.link.name}`,
      scopes: LINK_SCOPES,
      // The session's own tenant is checked when it is opened: the link names it.
      tenant: minter.tenant,
      admin: false,
      notifyUrl: null,
      signsNotifications: false,
      session: check.link.sessionId,
      linkId: check.link.id,
      mintedBy: minter.name,
      minter: null,
    };
  }

  /** The link's minter, if the token of that name is still the one that made it. */
  private boundMinter(link: CheckedLink): LinkMinter | undefined {
    const current = this.minters.get(link.minter.name);
    return sameMinter(link.minter, current) ? current : undefined;
  }
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.admin || principal.scopes.has(scope);
}

/** Whether a session of `tenant` is visible to the principal (another tenant's sessions do not exist for it). */
export function canSee(principal: Principal, tenant: string | null): boolean {
  return principal.admin || principal.tenant === tenant;
}
