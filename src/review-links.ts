/**
 * Review links: a bearer credential for reviewing one session, signed with REVIEW_LINK_SECRET (HMAC-
 * SHA256) and expiring. The API mints them (`POST /v1/sessions/:id/review-links`) and checks them; the
 * worker mints one for each `session.awaiting_review` notification. Nothing is stored: the link says
 * which session, who reviews with it (recorded as `by` on what it sends), which token minted it and
 * what that token was then (the fingerprint of its value, its tenant, its scopes), and when it expires.
 * A link works only while its minter is still that token: rotating the token's value, moving it to
 * another tenant, changing its scopes or removing it revokes the link, and so does rotating the secret.
 * One link is revoked alone by its id (the session keeps the ids it was told to refuse).
 *
 * The credential travels in the URL's fragment (`/review/<id>#t=<credential>`), which browsers never
 * send to a server, so it stays out of access logs and Referer headers.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'rl1';

/** What a link is bound to: its minting token as it was then. Never the token's value. */
export interface LinkMinter {
  name: string;
  /** A keyed hash of the token's value: it changes when the token is rotated, and reveals nothing of it. */
  fingerprint: string;
  tenant: string | null;
  /** Sorted. */
  scopes: readonly string[];
}

export interface ReviewLinkClaims {
  /** The one session the link opens. */
  sessionId: string;
  /** Who reviews with it: recorded as `link:<name>` on the decisions sent with it. */
  name: string;
  expiresAt: Date;
}

export interface CheckedLink extends ReviewLinkClaims {
  /** Names the link for revocation: derived from its signed claims, so the same on every check. */
  id: string;
  minter: LinkMinter;
}

export type ReviewLinkCheck = { ok: true; link: CheckedLink } | { ok: false; problem: 'invalid' | 'expired' };

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** A link's id: a hash of its claims (not secret; two links with the same claims are the same link). */
const linkId = (payload: string) => `rl_${createHash('sha256').update(payload).digest('base64url').slice(0, 22)}`;

/** Whether a link's minter is still the token it was when the link was made. */
export function sameMinter(bound: LinkMinter, current: LinkMinter | undefined): boolean {
  if (!current || bound.name !== current.name || bound.tenant !== current.tenant) return false;
  if (bound.scopes.length !== current.scopes.length || bound.scopes.some((scope, i) => scope !== current.scopes[i])) return false;
  const a = Buffer.from(bound.fingerprint);
  const b = Buffer.from(current.fingerprint);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class ReviewLinkSigner {
  private readonly key: Buffer;

  constructor(secret: string | Buffer) {
    this.key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  }

  /** Whether a presented bearer credential is a review link (rather than an API token). */
  static looksLikeLink(credential: string): boolean {
    return credential.startsWith(`${PREFIX}.`);
  }

  /** A token as links bind to it. Keyed with the link secret, so a link's fingerprint is no hash to guess a token against. */
  minterOf(token: { name: string; token: string; tenant?: string | undefined; scopes: readonly string[] }): LinkMinter {
    return {
      name: token.name,
      fingerprint: createHmac('sha256', this.key).update(`token\n${token.token}`).digest('base64url').slice(0, 22),
      tenant: token.tenant ?? null,
      scopes: [...new Set(token.scopes)].sort(),
    };
  }

  /** The credential and its id. */
  mint(claims: ReviewLinkClaims, minter: LinkMinter): { credential: string; id: string } {
    const payload = b64url(
      JSON.stringify({
        s: claims.sessionId,
        n: claims.name,
        m: minter.name,
        f: minter.fingerprint,
        t: minter.tenant,
        c: minter.scopes,
        e: Math.floor(claims.expiresAt.getTime() / 1000),
      }),
    );
    return { credential: `${PREFIX}.${payload}.${this.sign(payload)}`, id: linkId(payload) };
  }

  check(credential: string, now = Date.now()): ReviewLinkCheck {
    const [prefix, payload, signature, extra] = credential.split('.');
    if (prefix !== PREFIX || !payload || !signature || extra !== undefined) return { ok: false, problem: 'invalid' };
    const expected = Buffer.from(this.sign(payload));
    const presented = Buffer.from(signature);
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return { ok: false, problem: 'invalid' };
    let fields: { s?: unknown; n?: unknown; m?: unknown; f?: unknown; t?: unknown; c?: unknown; e?: unknown };
    try {
      fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof fields;
    } catch {
      return { ok: false, problem: 'invalid' };
    }
    const { s, n, m, f, t, c, e } = fields;
    // Links from before they were bound to their minter (no fingerprint) are refused too.
    const scopes = Array.isArray(c) && c.every((scope) => typeof scope === 'string') ? (c as string[]) : undefined;
    if (typeof s !== 'string' || typeof n !== 'string' || typeof m !== 'string' || typeof f !== 'string' || !(t === null || typeof t === 'string') || !scopes || typeof e !== 'number') {
      return { ok: false, problem: 'invalid' };
    }
    if (e * 1000 <= now) return { ok: false, problem: 'expired' };
    return { ok: true, link: { id: linkId(payload), sessionId: s, name: n, expiresAt: new Date(e * 1000), minter: { name: m, fingerprint: f, tenant: t, scopes } } };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(`${PREFIX}.${payload}`).digest('base64url');
  }
}

/** The page a link opens, with the credential in the fragment. `base` is the API's public URL. */
export function reviewLinkUrl(base: string, sessionId: string, credential: string): string {
  return `${base.replace(/\/+$/, '')}/review/${encodeURIComponent(sessionId)}#t=${credential}`;
}
