/**
 * The token `npm start` uses when no API tokens are configured: generated once (an admin token named
 * `local`), kept in DATA_DIR/api-token.json (owner-only) so it survives restarts, and printed only when
 * it is created. The API itself never runs without a token.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApiTokenSchema, type ApiToken } from './tokens';

export async function localApiToken(dataDir: string): Promise<{ token: ApiToken; file: string; created: boolean }> {
  const file = path.resolve(dataDir, 'api-token.json');
  try {
    const parsed = ApiTokenSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (parsed.success) return { token: parsed.data, file, created: false };
  } catch {
    // missing or unreadable: make a new one
  }
  const token: ApiToken = { name: 'local', token: `vao_${randomBytes(24).toString('base64url')}`, scopes: ['admin'] };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(token, null, 2)}\n`, { mode: 0o600 });
  return { token, file, created: true };
}
