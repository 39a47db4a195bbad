/**
 * The token `npm start` uses when no API tokens are configured: generated once (an admin token named
 * `local`), kept in DATA_DIR/api-token.json (owner-only) so it survives restarts, and printed only when
 * it is created, with the secret that signs its sessions' notifications. The API never runs without a token.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApiTokenSchema, type ApiToken } from './tokens';

export async function localApiToken(dataDir: string): Promise<{ token: ApiToken; file: string; created: boolean }> {
  const file = path.resolve(dataDir, 'api-token.json');
  let existing: ApiToken | undefined;
  try {
    const parsed = ApiTokenSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (parsed.success) existing = parsed.data;
  } catch {
    // missing or unreadable: make a new one
  }
  if (existing?.notifySecret) return { token: existing, file, created: false };
  // A token from before notifications existed keeps its value and gains a secret.
  const token: ApiToken = existing ?? { name: 'local', token: `vao_${randomBytes(24).toString('base64url')}`, scopes: ['admin'] };
  token.notifySecret = `whsec_${randomBytes(32).toString('base64')}`;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(token, null, 2)}\n`, { mode: 0o600 });
  return { token, file, created: existing === undefined };
}

/**
 * The key `npm start` signs review links with when REVIEW_LINK_SECRET is not set: generated once and kept
 * in DATA_DIR/review-link-secret (owner-only), so links outlive a restart.
 */
export async function localReviewLinkSecret(dataDir: string): Promise<string> {
  const file = path.resolve(dataDir, 'review-link-secret');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch {
    // missing or unreadable: make a new one
  }
  const secret = randomBytes(32).toString('base64url');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
