/**
 * API bearer tokens: who may call, with which scopes, for which tenant. Declared in API_TOKENS (a JSON
 * array) or API_TOKENS_FILE (a file holding the same array). Checked in constant time; never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { jsonText } from '../json-text';

export const SCOPES = ['sessions:create', 'sessions:read', 'sessions:review', 'sessions:stop', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const ApiTokenSchema = z
  .object({
    /** Who this is: recorded as `by` on the decisions it sends, and as `requestedBy` on its sessions. */
    name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'names are 1-64 of A-Z a-z 0-9 . _ @ -' }),
    token: z.string().min(16, { error: 'tokens must be at least 16 characters' }).max(512),
    scopes: z.array(z.enum(SCOPES)).min(1),
    /** Sessions are visible only to tokens of the same tenant (admin sees all). */
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9._@:-]{1,200}$/, { error: 'tenants are 1-200 of A-Z a-z 0-9 . _ @ : -' })
      .optional(),
  })
  .strict();
export type ApiToken = z.infer<typeof ApiTokenSchema>;

export const ApiTokensSchema = z
  .array(ApiTokenSchema)
  .refine((tokens) => new Set(tokens.map((t) => t.name)).size === tokens.length, { error: 'token names must be unique' })
  .refine((tokens) => new Set(tokens.map((t) => t.token)).size === tokens.length, { error: 'tokens must be unique' });

/** API_TOKENS as text: JSON, then the schema. */
export const ApiTokensJsonSchema = jsonText(ApiTokensSchema, 'expected a JSON array of {name, token, scopes, tenant?}');

export interface Principal {
  name: string;
  scopes: ReadonlySet<Scope>;
  tenant: string | null;
  admin: boolean;
}

const digest = (token: string) => createHash('sha256').update(token).digest();

export class TokenVerifier {
  private readonly entries: { digest: Buffer; principal: Principal }[];

  constructor(tokens: readonly ApiToken[]) {
    this.entries = tokens.map((token) => ({
      digest: digest(token.token),
      principal: { name: token.name, scopes: new Set(token.scopes), tenant: token.tenant ?? null, admin: token.scopes.includes('admin') },
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
