/**
 * Bearer-token authentication and scope checks for the API routes.
 */
import type { FastifyRequest } from 'fastify';
import { readApiTokens } from '../config/tokens';
import type { ApiConfig } from './config';
import { ApiError } from './errors';
import { hasScope, type TokenVerifier, type ApiToken, type Principal, type Scope } from './tokens';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The tokens from API_TOKENS or API_TOKENS_FILE (one of them); a ConfigError names a bad one. */
export function loadApiTokens(config: Pick<ApiConfig, 'api'>): ApiToken[] {
  return readApiTokens(config.api);
}

export const UNAUTHORIZED_MESSAGE = 'A valid bearer token is required (Authorization: Bearer <token>).';
export const UNAUTHORIZED_HEADERS = { 'www-authenticate': 'Bearer realm="video-agent-orchestrator"' };

/** The bearer token of a request, if it carries one. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/**
 * The principal of a presented credential, if it may act with `scope`: 401 when it is missing or no
 * longer valid (with the reason, for a review link), 403 when it lacks the scope or is a review link
 * where links are not allowed. Requests are checked here, and open streams again before each event.
 */
export function authorize(verifier: TokenVerifier, token: string | undefined, scope: Scope, options: { reviewLinks?: boolean } = {}): Principal {
  const principal = token === undefined ? undefined : verifier.verify(token);
  if (!principal) throw new ApiError('unauthorized', (token && verifier.refusal(token)) ?? UNAUTHORIZED_MESSAGE, undefined, UNAUTHORIZED_HEADERS);
  if (principal.session !== null && !options.reviewLinks) {
    throw new ApiError('forbidden', "A review link opens only its session's review: reading it, following it, approving and requesting changes.");
  }
  if (!hasScope(principal, scope)) throw new ApiError('forbidden', `This token lacks the ${scope} scope.`);
  return principal;
}

/**
 * An onRequest hook that requires a valid token with `scope` (or, where `reviewLinks` allows, a review
 * link for the session in the URL) and sets `request.principal`. Route hooks
 * run after the app's (the rate limit counts the request first) and before the body is read, checked
 * for its media type and size, or validated: a caller without a token learns nothing and costs no parsing.
 */
export function requireScope(verifier: TokenVerifier, scope: Scope, options: { reviewLinks?: boolean } = {}) {
  return async (request: FastifyRequest): Promise<void> => {
    request.principal = authorize(verifier, bearerToken(request), scope, options);
  };
}
