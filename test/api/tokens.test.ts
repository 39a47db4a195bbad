import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadApiTokens } from '../../src/api/auth';
import { localApiToken } from '../../src/api/local-token';
import { canSee, hasScope, TokenVerifier, type ApiToken } from '../../src/api/tokens';
import { ConfigError, loadConfig } from '../../src/service-config';

const tokens: ApiToken[] = [
  { name: 'tool', token: 'tok_tool_0123456789abcdef', scopes: ['sessions:read'], tenant: 'acme' },
  { name: 'ops', token: 'tok_ops_fedcba9876543210', scopes: ['admin'] },
];
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'vao-tokens-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadApiTokens(loadConfig(env));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loading tokens', () => {
  test('from API_TOKENS and from API_TOKENS_FILE', async () => {
    expect(loadApiTokens(loadConfig({ API_TOKENS: JSON.stringify(tokens) }))).toEqual(tokens);
    const file = path.join(scratch, 'tokens.json');
    await writeFile(file, JSON.stringify(tokens));
    expect(loadApiTokens(loadConfig({ API_TOKENS_FILE: file }))).toEqual(tokens);
    expect(loadApiTokens(loadConfig({}))).toEqual([]);
  });

  test.each([
    ['not JSON', { API_TOKENS: '[{name' }, /API_TOKENS: expected a JSON array/],
    ['a short token', { API_TOKENS: JSON.stringify([{ name: 'a', token: 'short', scopes: ['admin'] }]) }, /API_TOKENS: tokens must be at least 16 characters/],
    ['an unknown scope', { API_TOKENS: JSON.stringify([{ name: 'a', token: 'x'.repeat(16), scopes: ['sessions:delete'] }]) }, /API_TOKENS: /],
    ['duplicate names', { API_TOKENS: JSON.stringify([tokens[0], { ...tokens[1], name: 'tool' }]) }, /API_TOKENS: token names must be unique/],
  ])('%s in API_TOKENS is refused without echoing tokens', (_name, env, message) => {
    let text = '';
    try {
      loadConfig(env);
    } catch (error) {
      text = (error as Error).message;
    }
    expect(text).toMatch(message);
    expect(text).not.toContain('short');
    expect(text).not.toContain('tok_');
  });

  test('API_TOKENS_FILE problems name the variable and the file', async () => {
    expect(configError({ API_TOKENS_FILE: path.join(scratch, 'missing.json') })).toMatch(/API_TOKENS_FILE: cannot read .*missing\.json \(ENOENT\)/);
    const bad = path.join(scratch, 'bad.json');
    await writeFile(bad, JSON.stringify([{ name: 'a', token: 'x'.repeat(16), scopes: [] }]));
    expect(configError({ API_TOKENS_FILE: bad })).toMatch(/API_TOKENS_FILE: .*bad\.json at 0\.scopes: /);
    const both = path.join(scratch, 'tokens2.json');
    await writeFile(both, JSON.stringify(tokens));
    expect(configError({ API_TOKENS_FILE: both, API_TOKENS: JSON.stringify(tokens) })).toMatch(/either API_TOKENS or API_TOKENS_FILE, not both/);
  });
});

describe('verifying', () => {
  const verifier = new TokenVerifier(tokens);

  test('the right token gives its principal; anything else none', () => {
    expect(verifier.verify('tok_tool_0123456789abcdef')).toMatchObject({ name: 'tool', tenant: 'acme', admin: false });
    expect(verifier.verify('tok_ops_fedcba9876543210')).toMatchObject({ name: 'ops', tenant: null, admin: true });
    for (const wrong of ['', 'tok_tool_0123456789abcde', 'tok_tool_0123456789abcdef ', 'TOK_TOOL_0123456789ABCDEF']) {
      expect(verifier.verify(wrong)).toBeUndefined();
    }
  });

  test('scopes and tenants', () => {
    const tool = verifier.verify('tok_tool_0123456789abcdef')!;
    const ops = verifier.verify('tok_ops_fedcba9876543210')!;
    expect([hasScope(tool, 'sessions:read'), hasScope(tool, 'sessions:create'), hasScope(ops, 'sessions:stop')]).toEqual([true, false, true]);
    expect([canSee(tool, 'acme'), canSee(tool, 'globex'), canSee(tool, null), canSee(ops, 'globex')]).toEqual([true, false, false, true]);
  });
});

test('the local token of npm start is generated once, owner-only, then reused', async () => {
  const dataDir = path.join(scratch, 'data');
  const first = await localApiToken(dataDir);
  expect(first).toMatchObject({ created: true, token: { name: 'local', scopes: ['admin'] } });
  expect(first.token.token).toMatch(/^vao_[A-Za-z0-9_-]{32}$/);
  const { statSync } = await import('node:fs');
  expect(statSync(first.file).mode & 0o777).toBe(0o600);
  const second = await localApiToken(dataDir);
  expect(second).toEqual({ ...first, created: false });
});
