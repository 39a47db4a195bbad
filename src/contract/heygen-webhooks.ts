/**
 * HeyGen webhook signing and verification, shared by the simulator (which signs) and the API's webhook
 * receiver (which verifies), so the two can never disagree.
 *
 * HeyGen's scheme: `Heygen-Signature` is the hex HMAC-SHA256 of the raw request body with the endpoint
 * secret; `Heygen-Timestamp` is the dispatch time in unix seconds; `Heygen-Event-Id` identifies the event
 * (the same on every redelivery). The signature covers the body only, so deduplicating event ids is the
 * primary replay defence and the timestamp check is defence in depth.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'heygen-signature';
export const TIMESTAMP_HEADER = 'heygen-timestamp';
export const EVENT_ID_HEADER = 'heygen-event-id';

/** Deliveries older than this are rejected (HeyGen: "Reject deliveries older than ~5 minutes"). */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export function signWebhookBody(rawBody: string | Buffer, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

/** The headers of one signed delivery. */
export function webhookHeaders(rawBody: string | Buffer, secret: string, eventId: string, timestampSeconds: number): Record<string, string> {
  return {
    'content-type': 'application/json',
    [SIGNATURE_HEADER]: signWebhookBody(rawBody, secret),
    [TIMESTAMP_HEADER]: String(timestampSeconds),
    [EVENT_ID_HEADER]: eventId,
  };
}

export type WebhookVerification =
  | { ok: true; eventId: string; timestampSeconds: number }
  | { ok: false; reason: 'missing_headers' | 'bad_signature' | 'bad_timestamp' | 'stale_timestamp' };

export interface VerifyWebhookInput {
  rawBody: string | Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
  eventId: string | undefined;
  secret: string;
  nowSeconds?: number;
  toleranceSeconds?: number;
}

export function verifyWebhook(input: VerifyWebhookInput): WebhookVerification {
  const { signature, timestamp, eventId } = input;
  if (!signature || !timestamp || !eventId) return { ok: false, reason: 'missing_headers' };
  const expected = Buffer.from(signWebhookBody(input.rawBody, input.secret), 'hex');
  const given = /^[0-9a-fA-F]+$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  // timingSafeEqual needs equal lengths; a wrong length is a wrong signature, decided in constant time.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad_timestamp' };
  const timestampSeconds = Number(timestamp);
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestampSeconds) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) {
    return { ok: false, reason: 'stale_timestamp' };
  }
  return { ok: true, eventId, timestampSeconds };
}
