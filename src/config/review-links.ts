/**
 * REVIEW_LINK_SECRET and API_PUBLIC_URL: read by the API (which mints and checks review links) and by the
 * worker (which puts one in each `session.awaiting_review` notification). Both must hold the same secret.
 */
import { z } from 'zod';
import { httpUrl } from './env';

export const reviewLinksEnv = {
  REVIEW_LINK_SECRET: z.string().min(32, { error: 'expected a secret of at least 32 characters' }).optional(),
  API_PUBLIC_URL: httpUrl.optional(),
};

export function reviewLinksSection(env: { REVIEW_LINK_SECRET?: string | undefined; API_PUBLIC_URL?: string | undefined }) {
  return {
    /** Signs review links. Unset: the API signs with a key of its own process; the worker adds no link. */
    secret: env.REVIEW_LINK_SECRET,
    /** Where people reach the API (links are absolute); the API falls back to the request's own host. */
    publicUrl: env.API_PUBLIC_URL?.replace(/\/+$/, ''),
  };
}
