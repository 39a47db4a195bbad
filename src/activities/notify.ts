/**
 * Delivering a session's notifications: one signed POST per attempt (the workflow retries and keeps the
 * delivery log). Signed the Standard Webhooks way with the secret of the token that started the session,
 * which only the worker holds: the workflow names the token, never the secret. The address is checked as
 * resolved, on the connection actually used, so a name cannot point us at an internal host.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Webhook } from 'standardwebhooks';
import type { Logger } from '../logging';
import { isPrivateAddress, urlTargetProblem } from '../net-addresses';
import { reviewLinkUrl, ReviewLinkSigner } from '../review-links';
import { NotificationGate } from './notify-gate';
import type { ApiToken } from '../contract/tokens';

export const NOTIFY_FAILURE = {
  /** The receiver answered non-2xx, or could not be reached: worth another attempt. */
  failed: 'NotificationFailed',
  /** Never deliverable as configured (no secret for the token, a private address): not retried. */
  refused: 'NotificationRefused',
  /** This worker's share of notifications (in total or for the tenant) was in use: retried after a backoff. */
  busy: 'NotificationBusy',
} as const;

export interface NotificationAttempt {
  url: string;
  /** `webhook-id`: the same on every attempt of one notification. */
  id: string;
  /** The JSON body, the same on every attempt. */
  body: string;
  /** The token whose secret signs it (the session's `requestedBy`). */
  signedBy: string;
  /** Whose share of the worker's notification attempts it takes (absent in older sessions: the token's name). */
  tenant?: string;
}

export interface NotifyActivityDeps {
  /** Token name → its `whsec_...` secret. */
  secrets: ReadonlyMap<string, string>;
  allowPrivate: boolean;
  /** Ports never sent to (this machine's own services: NOTIFY_DENIED_PORTS, filled by `npm start`). */
  deniedPorts?: readonly number[];
  logger: Logger;
  /** The whole attempt (connect, send, answer, body) ends by then, and before its activity times out. */
  timeoutMs?: number;
  /** Bounds the attempts in flight, in total and per tenant (shared by every worker of the process). */
  gate?: NotificationGate;
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
/** An attempt ends this long before its activity's own timeout, so it never outlives it. */
const ACTIVITY_TIMEOUT_MARGIN_MS = 1_000;
/** Heartbeats while an attempt is in flight, so that Temporal can tell it to stop (the SDK throttles them). */
const HEARTBEAT_EVERY_MS = 1_000;

export function createNotifyActivities({
  secrets,
  allowPrivate,
  deniedPorts = [],
  logger,
  timeoutMs = 10_000,
  gate = new NotificationGate(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY),
  resolve = dnsLookup,
  reviewLinks,
}: NotifyActivityDeps) {
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
      // Checked here as well as at create: an IP literal is never looked up, so safeLookup never sees it.
      const problem = urlTargetProblem(attempt.url, { allowPrivate, deniedPorts });
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
      const tenant = attempt.tenant ?? attempt.signedBy;
      const place = gate.enter(tenant);
      if ('full' in place) {
        const whose = place.full === 'tenant' ? `the tenant ${tenant}'s share (${gate.perTenant})` : `this worker's share (${gate.total})`;
        throw ApplicationFailure.retryable(`not attempted: ${whose} of notifications in flight is in use`, NOTIFY_FAILURE.busy, { status: null });
      }
      let status: number;
      try {
        status = await withinActivity((signal) => post(attempt.url, body, headers, { lookup: safeLookup, signal }), timeoutMs);
      } catch (error) {
        const { code, message } = error as NodeJS.ErrnoException;
        if (code === 'EPRIVATEADDRESS') throw ApplicationFailure.nonRetryable(`refused: ${message}`, NOTIFY_FAILURE.refused);
        throw ApplicationFailure.retryable(`no answer: ${code ?? message}`, NOTIFY_FAILURE.failed, { status: null });
      } finally {
        place.release();
      }
      logger.debug({ id: attempt.id, status }, 'notification attempt');
      if (status < 200 || status >= 300) throw ApplicationFailure.retryable(`the receiver answered ${status}`, NOTIFY_FAILURE.failed, { status });
      return { status };
    },
  };
}

export type NotifyActivities = ReturnType<typeof createNotifyActivities>;

/** The running activity's context; undefined when called outside one (a test calling the function itself). */
function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * Runs `work` with a signal that aborts at the deadline (`timeoutMs`, or just before the activity's own
 * timeout if that comes first) or when Temporal cancels the activity (its workflow ended, or it timed
 * out there). Heartbeats meanwhile: a cancellation reaches an activity only in a heartbeat's answer.
 */
async function withinActivity<T>(work: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
  const context = currentActivity();
  const info = context?.info;
  const activityLeft = info?.startToCloseTimeoutMs ? info.currentAttemptScheduledTimestampMs + info.startToCloseTimeoutMs - Date.now() - ACTIVITY_TIMEOUT_MARGIN_MS : timeoutMs;
  const deadline = AbortSignal.timeout(Math.max(Math.min(timeoutMs, activityLeft), 1));
  const signal = context ? AbortSignal.any([deadline, context.cancellationSignal]) : deadline;
  const heartbeat = context ? setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS) : undefined;
  try {
    context?.heartbeat();
    return await work(signal);
  } finally {
    clearInterval(heartbeat);
  }
}

/**
 * POSTs and resolves with the status once the (bounded) response has been read. `signal` ends it all:
 * before the answer, as a failure (ETIMEDOUT, or the cancellation); after it, with the status already
 * given, the rest of the body is not waited for.
 */
function post(url: string, body: string, headers: Record<string, string>, options: { lookup: RequestOptions['lookup']; signal: AbortSignal }): Promise<number> {
  const { signal } = options;
  return new Promise((resolve, reject) => {
    const abortError = () => {
      const timedOut = (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
      return Object.assign(new Error(timedOut ? 'timed out' : 'cancelled'), { code: timedOut ? 'ETIMEDOUT' : 'ECANCELLED' });
    };
    if (signal.aborted) return reject(abortError());
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    let answered = false;
    const request = send(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: options.lookup }, (response) => {
      // Answered: from here the signal only cuts the body short; the status stands.
      answered = true;
      signal.removeEventListener('abort', onAbort);
      const cutShort = () => response.destroy();
      signal.addEventListener('abort', cutShort, { once: true });
      const status = response.statusCode ?? 0;
      let read = 0;
      const done = () => {
        signal.removeEventListener('abort', cutShort);
        resolve(status);
      };
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) response.destroy();
      });
      response.on('end', done);
      response.on('close', done);
      response.on('error', done);
    });
    const onAbort = () => request.destroy(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      if (!answered) reject(error);
    });
    request.end(body);
  });
}
