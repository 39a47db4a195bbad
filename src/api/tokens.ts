/**
 * API bearer tokens: who may call, with which scopes, for which tenant. Declared in API_TOKENS (a JSON
 * array) or API_TOKENS_FILE (a file holding the same array). Checked in constant time; never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiToken, Scope } from '../contract/tokens';

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
}

const digest = (token: string) => createHash('sha256').update(token).digest();

export class TokenVerifier {
  private readonly entries: { digest: Buffer; principal: Principal }[];

  constructor(tokens: readonly ApiToken[]) {
    this.entries = tokens.map((token) => ({
      digest: digest(token.token),
      principal: {
        name: token.name,
        scopes: new Set(token.scopes),
        tenant: token.tenant ?? null,
        admin: token.scopes.includes('admin'),
        notifyUrl: token.notifyUrl ?? null,
        signsNotifications: token.notifySecret !== undefined,
      },
    }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The principal of a presented token. Compares against every token, in constant time each. */
  verify(presented: string): Principal | undefined {
    const candidate = digest(presented);
    let match: Principal | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, candidate)) match = entry.principal;
    }
    return match;
  }
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.admin || principal.scopes.has(scope);
}

/** Whether a session of `tenant` is visible to the principal (another tenant's sessions do not exist for it). */
export function canSee(principal: Principal, tenant: string | null): boolean {
  return principal.admin || principal.tenant === tenant;
}
