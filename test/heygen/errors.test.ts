import { classifyHttpStatus, classifyTransportFailure, parseErrorBody, parseRetryAfter } from '../../src/heygen/errors';

describe('retry classification of HTTP errors', () => {
  test.each([
    [429, 'rate_limit_exceeded', 'idempotent', 'retryable'],
    [429, 'rate_limit_exceeded', 'non_idempotent', 'retryable'],
    [409, 'request_in_progress', 'non_idempotent', 'retryable'],
    [500, 'internal_error', 'idempotent', 'retryable'],
    [502, 'http_502', 'idempotent', 'retryable'],
    [503, 'http_503', 'idempotent', 'retryable'],
    [500, 'internal_error', 'non_idempotent', 'ambiguous'],
    [502, 'http_502', 'non_idempotent', 'ambiguous'],
    [504, 'gateway_timeout', 'non_idempotent', 'ambiguous'],
    [400, 'invalid_parameter', 'non_idempotent', 'not_retryable'],
    [401, 'unauthorized', 'idempotent', 'not_retryable'],
    [402, 'insufficient_credit', 'non_idempotent', 'not_retryable'],
    [403, 'forbidden', 'idempotent', 'not_retryable'],
    [404, 'not_found', 'idempotent', 'not_retryable'],
    [409, 'conflict', 'non_idempotent', 'not_retryable'],
    [413, 'payload_too_large', 'non_idempotent', 'not_retryable'],
    [422, 'idempotency_key_reused', 'non_idempotent', 'not_retryable'],
    [200, 'malformed_response', 'non_idempotent', 'ambiguous'],
    [200, 'malformed_response', 'idempotent', 'retryable'],
  ] as const)('%i %s on a %s request → %s', (status, code, kind, expected) => {
    expect(classifyHttpStatus(status, code, kind)).toBe(expected);
  });
});

describe('retry classification without a response', () => {
  test.each([
    ['timeout', 'idempotent', 'retryable'],
    ['timeout', 'non_idempotent', 'ambiguous'],
    ['connection_reset', 'idempotent', 'retryable'],
    ['connection_reset', 'non_idempotent', 'ambiguous'],
    ['network_error', 'non_idempotent', 'ambiguous'],
    ['connection_refused', 'non_idempotent', 'retryable'],
  ] as const)('%s on a %s request → %s', (failure, kind, expected) => {
    expect(classifyTransportFailure(failure, kind)).toBe(expected);
  });
});

describe('Retry-After', () => {
  test('delta-seconds', () => {
    expect(parseRetryAfter('30')).toBe(30_000);
    expect(parseRetryAfter(' 1.5 ')).toBe(1_500);
    expect(parseRetryAfter('0')).toBe(0);
  });
  test('HTTP-date', () => {
    const now = Date.parse('2026-11-26T10:00:00Z');
    expect(parseRetryAfter('Thu, 26 Nov 2026 10:00:42 GMT', now)).toBe(42_000);
    expect(parseRetryAfter('Thu, 26 Nov 2026 09:00:00 GMT', now)).toBe(0);
  });
  test('absent or unreadable', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('error bodies', () => {
  test('the v3 envelope with param', () => {
    const body = JSON.stringify({ error: { code: 'invalid_parameter', message: 'prompt is required', param: 'prompt', doc_url: 'https://d' } });
    expect(parseErrorBody(400, body)).toEqual({ code: 'invalid_parameter', message: 'prompt is required', param: 'prompt', docUrl: 'https://d' });
  });
  test("a gateway's HTML page", () => {
    const html = '<html><head><title>502 Bad Gateway</title><style>h1{}</style></head><body><h1>502 Bad Gateway</h1></body></html>';
    expect(parseErrorBody(502, html)).toEqual({ code: 'http_502', message: '502 Bad Gateway 502 Bad Gateway' });
  });
  test('plain text, empty and non-envelope JSON bodies', () => {
    expect(parseErrorBody(503, 'upstream connect error')).toEqual({ code: 'http_503', message: 'upstream connect error' });
    expect(parseErrorBody(500, '')).toEqual({ code: 'http_500', message: '(empty body)' });
    expect(parseErrorBody(500, '{"message":"boom"}')).toEqual({ code: 'http_500', message: '{"message":"boom"}' });
  });
  test('an envelope whose code is empty or "error" did not come from the app: classified by status', () => {
    expect(parseErrorBody(403, JSON.stringify({ error: { code: 'error', message: 'Request blocked' } }))).toEqual({ code: 'http_403', message: 'Request blocked' });
    expect(parseErrorBody(500, JSON.stringify({ error: { code: '', message: 'x' } }))).toEqual({ code: 'http_500', message: 'x' });
  });
  test('long bodies are cut short', () => {
    expect(parseErrorBody(502, 'x'.repeat(5_000)).message).toHaveLength(200);
  });
});
