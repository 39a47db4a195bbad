/**
 * API_TOKENS / API_TOKENS_FILE: read by the API (who may call) and by the worker (each token's
 * notification secret). One of the two, validated; a ConfigError names a bad one.
 */
import { readFileSync } from 'node:fs';
import { ApiTokensJsonSchema, type ApiToken } from '../contract/tokens';
import { ConfigError, nonEmpty } from './env';

export const tokensEnv = {
  API_TOKENS: ApiTokensJsonSchema.optional(),
  API_TOKENS_FILE: nonEmpty.optional(),
};

export function readApiTokens({ tokens, tokensFile }: { tokens?: ApiToken[] | undefined; tokensFile?: string | undefined }): ApiToken[] {
  if (tokens && tokensFile) {
    throw new ConfigError([{ variable: 'API_TOKENS_FILE', problem: 'set either API_TOKENS or API_TOKENS_FILE, not both' }]);
  }
  if (!tokensFile) return tokens ?? [];
  let text: string;
  try {
    text = readFileSync(tokensFile, 'utf8');
  } catch (error) {
    throw new ConfigError([{ variable: 'API_TOKENS_FILE', problem: `cannot read ${tokensFile} (${(error as NodeJS.ErrnoException).code ?? String(error)})` }]);
  }
  const parsed = ApiTokensJsonSchema.safeParse(text);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new ConfigError([{ variable: 'API_TOKENS_FILE', problem: `${tokensFile}${where}: ${issue.message}` }]);
  }
  return parsed.data;
}
