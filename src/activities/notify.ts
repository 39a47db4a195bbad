/**
 * Delivering a session's notifications: one signed POST per attempt (the workflow retries and keeps the
 * delivery log). Signed the Standard Webhooks way with the secret of the token that started the session,
 * which only the worker holds: the workflow names the token, never the secret. The address is checked as
 * resolved, on the connection actually used, so a name cannot point us at an internal host.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ApplicationFailure } from '@temporalio/common';
import { Webhook } from 'standardwebhooks';
import type { Logger } from '../logging';
import { isPrivateAddress, urlTargetProblem } from '../net-addresses';
import { reviewLinkUrl, ReviewLinkSigner } from '../review-links';
import type { ApiToken } from '../contract/tokens';

export const NOTIFY_FAILURE = {
  /** The receiver answered non-2xx, or could not be reached: worth another attempt. */
  failed: 'NotificationFailed',
  /** Never deliverable as configured (no secret for the token, a private address): not retried. */
  refused: 'NotificationRefused',
} as const;

export interface NotificationAttempt {
  url: string;
  /** `webhook-id`: the same on every attempt of one notification. */
  id: string;
  /** The JSON body, the same on every attempt. */
  body: string;
  /** The token whose secret signs it (the session's `requestedBy`). */
  signedBy: string;
}

export interface NotifyActivityDeps {
  /** Token name → its `whsec_...` secret. */
  secrets: ReadonlyMap<string, string>;
  allowPrivate: boolean;
  logger: Logger;
  timeoutMs?: number;
  /** How names are resolved (node's DNS lookup; tests give names their own answers). */
  resolve?: typeof dnsLookup;
  /**
   * With both, a checkpoint's notification carries a review link (REVIEW_LINK_SECRET, API_PUBLIC_URL),
   * bound to the token that started the session as `tokens` has it (API_TOKENS).
   */
  reviewLinks?: { secret?: string | undefined; publicUrl?: string | undefined; tokens?: readonly ApiToken[] };
}

/** The events a person acts on: their notifications carry a link to the review page. */
const CHECKPOINT_EVENTS = new Set(['session.awaiting_review', 'session.awaiting_answer']);

const MAX_RESPONSE_BYTES = 64 * 1024;

export function createNotifyActivities({ secrets, allowPrivate, logger, timeoutMs = 10_000, resolve = dnsLookup, reviewLinks }: NotifyActivityDeps) {
  const signer = reviewLinks?.secret && reviewLinks.publicUrl ? new ReviewLinkSigner(reviewLinks.secret) : undefined;
  const minters = new Map((signer ? (reviewLinks?.tokens ?? []) : []).map((token) => [token.name, signer!.minterOf(token)]));

  /**
   * A checkpoint's body gains `data.links.review`: a link for the one session, expiring with its review
   * deadline, in the name of the token that started it. Minted here, never in the workflow, so the
   * credential stays out of history; the same on every attempt (its expiry is the deadline's).
   */
  const withReviewLink = (body: string, signedBy: string): string => {
    const minter = minters.get(signedBy);
    if (!signer || !minter) return body;
    const parsed = JSON.parse(body) as { type?: string; data?: { session?: { id?: string; review?: { deadline?: string } | null }; links?: Record<string, string> } };
    const sessionId = parsed.data?.session?.id;
    const deadline = Date.parse(parsed.data?.session?.review?.deadline ?? '');
    if (!CHECKPOINT_EVENTS.has(parsed.type ?? '') || !sessionId || !parsed.data?.links || !(deadline > Date.now())) return body;
    const { credential } = signer.mint({ sessionId, name: signedBy, expiresAt: new Date(deadline) }, minter);
    parsed.data.links.review = reviewLinkUrl(reviewLinks!.publicUrl!, sessionId, credential);
    return JSON.stringify(parsed);
  };

  const safeLookup: RequestOptions['lookup'] = (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4);
      const allowed = allowPrivate ? addresses : addresses.filter((a) => !isPrivateAddress(a.address));
      if (allowed.length === 0) {
        const refused = Object.assign(new Error(`${hostname} resolves to a private or reserved address`), { code: 'EPRIVATEADDRESS' });
        return callback(refused, '', 4);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      return callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };

  return {
    async deliverNotification(attempt: NotificationAttempt): Promise<{ status: number }> {
      const secret = secrets.get(attempt.signedBy);
      if (!secret) {
        throw ApplicationFailure.nonRetryable(`no notifySecret is configured for the token ${attempt.signedBy}`, NOTIFY_FAILURE.refused);
      }
      const problem = allowPrivate ? undefined : urlTargetProblem(attempt.url);
      if (problem) throw ApplicationFailure.nonRetryable(`refused: ${problem}`, NOTIFY_FAILURE.refused);

      // Signed at each attempt: receivers refuse timestamps more than a few minutes old.
      const now = new Date();
      const body = withReviewLink(attempt.body, attempt.signedBy);
      const signature = new Webhook(secret).sign(attempt.id, now, body);
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'video-agent-orchestrator',
        'webhook-id': attempt.id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      };
      let status: number;
      try {
        status = await post(attempt.url, body, headers, { lookup: safeLookup, timeoutMs });
      } catch (error) {
        const { code, message } = error as NodeJS.ErrnoException;
        if (code === 'EPRIVATEADDRESS') throw ApplicationFailure.nonRetryable(`refused: ${message}`, NOTIFY_FAILURE.refused);
        throw ApplicationFailure.retryable(`no answer: ${code ?? message}`, NOTIFY_FAILURE.failed, { status: null });
      }
      logger.debug({ id: attempt.id, status }, 'notification attempt');
      if (status < 200 || status >= 300) throw ApplicationFailure.retryable(`the receiver answered ${status}`, NOTIFY_FAILURE.failed, { status });
      return { status };
    },
  };
}

export type NotifyActivities = ReturnType<typeof createNotifyActivities>;

/** POSTs and resolves with the status once the (bounded) response has been read. */
function post(url: string, body: string, headers: Record<string, string>, options: { lookup: RequestOptions['lookup']; timeoutMs: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const request = send(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: options.lookup, timeout: options.timeoutMs }, (response) => {
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) response.destroy();
      });
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('close', () => resolve(response.statusCode ?? 0));
      response.on('error', () => resolve(response.statusCode ?? 0));
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    request.on('error', reject);
    request.end(body);
  });
}
