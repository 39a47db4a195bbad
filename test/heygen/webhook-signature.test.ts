import { createHmac } from 'node:crypto';
import { signWebhookBody, verifyWebhook, webhookHeaders } from '../../src/contract/heygen-webhooks';

const secret = 'whsec_test_secret';
const rawBody = JSON.stringify({ event_type: 'video_agent.success', event_data: { session_id: 's', callback_id: 'wf' } });
const now = 1_800_000_000;

function verify(overrides: Partial<Parameters<typeof verifyWebhook>[0]> = {}) {
  const headers = webhookHeaders(rawBody, secret, 'evt_1', now);
  return verifyWebhook({
    rawBody,
    signature: headers['heygen-signature'],
    timestamp: headers['heygen-timestamp'],
    eventId: headers['heygen-event-id'],
    secret,
    nowSeconds: now + 10,
    ...overrides,
  });
}

test('the signature is the hex HMAC-SHA256 of the raw body', () => {
  expect(signWebhookBody(rawBody, secret)).toBe(createHmac('sha256', secret).update(rawBody).digest('hex'));
  expect(webhookHeaders(rawBody, secret, 'evt_1', now)).toEqual({
    'content-type': 'application/json',
    'heygen-signature': signWebhookBody(rawBody, secret),
    'heygen-timestamp': String(now),
    'heygen-event-id': 'evt_1',
  });
});

test('a genuine delivery verifies', () => {
  expect(verify()).toEqual({ ok: true, eventId: 'evt_1', timestampSeconds: now });
});

test.each([
  ['a tampered body', { rawBody: rawBody.replace('"s"', '"t"') }, 'bad_signature'],
  ['a re-serialised body (whitespace differs)', { rawBody: JSON.stringify(JSON.parse(rawBody), null, 2) }, 'bad_signature'],
  ['the wrong secret', { secret: 'whsec_other' }, 'bad_signature'],
  ['a signature that is not hex', { signature: 'not-hex!' }, 'bad_signature'],
  ['a truncated signature', { signature: signWebhookBody(rawBody, secret).slice(0, 10) }, 'bad_signature'],
  ['a stale timestamp (6 minutes old)', { nowSeconds: now + 360 }, 'stale_timestamp'],
  ['a timestamp from the future', { nowSeconds: now - 360 }, 'stale_timestamp'],
  ['a timestamp that is not a number', { timestamp: '12a' }, 'bad_timestamp'],
  ['no signature header', { signature: undefined }, 'missing_headers'],
  ['no event id', { eventId: undefined }, 'missing_headers'],
] as const)('%s is rejected', (_name, overrides, reason) => {
  expect(verify(overrides)).toEqual({ ok: false, reason });
});

test('the tolerance is configurable', () => {
  expect(verify({ nowSeconds: now + 360, toleranceSeconds: 600 }).ok).toBe(true);
});
