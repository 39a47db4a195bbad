/**
 * API tokens as configured (API_TOKENS or API_TOKENS_FILE): the API reads who may call with which scopes
 * for which tenant; the worker reads only each token's notification secret, to sign what its sessions
 * send.
 */
import { z } from 'zod';
import { jsonText } from './json-text';
import { NotifyUrlSchema } from './session-schemas';

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
    /** Where this token's sessions send their notifications unless a request names another URL. */
    notifyUrl: NotifyUrlSchema.optional(),
    /** Signs this token's notifications (Standard Webhooks): `whsec_` and at least 24 random bytes in base64. */
    notifySecret: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, { error: 'expected whsec_ followed by at least 24 random bytes in base64' })
      .optional(),
  })
  .strict();
export type ApiToken = z.infer<typeof ApiTokenSchema>;

export const ApiTokensSchema = z
  .array(ApiTokenSchema)
  .refine((tokens) => new Set(tokens.map((t) => t.name)).size === tokens.length, { error: 'token names must be unique' })
  .refine((tokens) => new Set(tokens.map((t) => t.token)).size === tokens.length, { error: 'tokens must be unique' });

/** API_TOKENS as text: JSON, then the schema. */
export const ApiTokensJsonSchema = jsonText(ApiTokensSchema, 'expected a JSON array of {name, token, scopes, tenant?, notifyUrl?, notifySecret?}');
