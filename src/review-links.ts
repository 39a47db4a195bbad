/**
 * Review links: a bearer credential for reviewing one session, signed with REVIEW_LINK_SECRET (HMAC-
 * SHA256) and expiring. The API mints them (`POST /v1/sessions/:id/review-links`) and checks them; the
 * worker mints one for each `session.awaiting_review` notification. Nothing is stored: the link says
 * which session, who reviews with it (recorded as `by` on what it sends), which token minted it (a link
 * dies with its token) and when it expires. Rotating the secret revokes every link.
 *
 * The credential travels in the URL's fragment (`/review/<id>#t=<credential>`), which browsers never
 * send to a server, so it stays out of access logs and Referer headers.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'rl1';

export interface ReviewLinkClaims {
  /** The one session the link opens. */
  sessionId: string;
  /** Who reviews with it: recorded as `link:<name>` on the decisions sent with it. */
  name: string;
  /** The API token that minted it (for a notification's link: the token that started the session). */
  mintedBy: string;
  expiresAt: Date;
}

export type ReviewLinkCheck = { ok: true; claims: ReviewLinkClaims } | { ok: false; problem: 'invalid' | 'expired' };

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export class ReviewLinkSigner {
  private readonly key: Buffer;

  constructor(secret: string | Buffer) {
    this.key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  }

  /** Whether a presented bearer credential is a review link (rather than an API token). */
  static looksLikeLink(credential: string): boolean {
    return credential.startsWith(`${PREFIX}.`);
  }

  mint(claims: ReviewLinkClaims): string {
    const payload = b64url(JSON.stringify({ s: claims.sessionId, n: claims.name, m: claims.mintedBy, e: Math.floor(claims.expiresAt.getTime() / 1000) }));
    return `${PREFIX}.${payload}.${this.sign(payload)}`;
  }

  check(credential: string, now = Date.now()): ReviewLinkCheck {
    const [prefix, payload, signature, extra] = credential.split('.');
    if (prefix !== PREFIX || !payload || !signature || extra !== undefined) return { ok: false, problem: 'invalid' };
    const expected = Buffer.from(this.sign(payload));
    const presented = Buffer.from(signature);
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return { ok: false, problem: 'invalid' };
    let fields: { s?: unknown; n?: unknown; m?: unknown; e?: unknown };
    try {
      fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof fields;
    } catch {
      return { ok: false, problem: 'invalid' };
    }
    const { s, n, m, e } = fields;
    if (typeof s !== 'string' || typeof n !== 'string' || typeof m !== 'string' || typeof e !== 'number') return { ok: false, problem: 'invalid' };
    if (e * 1000 <= now) return { ok: false, problem: 'expired' };
    return { ok: true, claims: { sessionId: s, name: n, mintedBy: m, expiresAt: new Date(e * 1000) } };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(`${PREFIX}.${payload}`).digest('base64url');
  }
}

/** The page a link opens, with the credential in the fragment. `base` is the API's public URL. */
export function reviewLinkUrl(base: string, sessionId: string, credential: string): string {
  return `${base.replace(/\/+$/, '')}/review/${encodeURIComponent(sessionId)}#t=${credential}`;
}
