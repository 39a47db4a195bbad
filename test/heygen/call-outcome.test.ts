import { heygenCallOutcome } from '../../src/heygen/call-outcome';
import { HeyGenApiError } from '../../src/heygen/errors';

const error = (status: number | undefined, code: string) => new HeyGenApiError({ status, code, message: 'x', retry: 'retryable', method: 'GET', path: '/v3/x' });

describe('the outcome label of a HeyGen request', () => {
  test.each([
    [undefined, 'success'],
    [error(429, 'rate_limit_exceeded'), 'rate_limited'],
    [error(400, 'invalid_parameter'), 'client_error'],
    [error(404, 'not_found'), 'client_error'],
    [error(409, 'request_in_progress'), 'client_error'],
    [error(500, 'http_500'), 'server_error'],
    [error(503, 'http_503'), 'server_error'],
    [error(200, 'malformed_response'), 'invalid_response'],
    [error(200, 'invalid_response'), 'invalid_response'],
    [error(undefined, 'timeout'), 'timeout'],
    [error(undefined, 'connection_reset'), 'connection_error'],
    [error(undefined, 'connection_refused'), 'connection_error'],
    [error(undefined, 'network_error'), 'connection_error'],
    [new TypeError('fetch failed'), 'connection_error'],
  ])('%s is %s', (failure, outcome) => {
    expect(heygenCallOutcome(failure, false)).toBe(outcome);
  });

  test("the caller's own cancellation is not HeyGen's doing, whatever it broke", () => {
    expect(heygenCallOutcome(new Error('activity cancelled'), true)).toBe('cancelled');
    expect(heygenCallOutcome(error(undefined, 'timeout'), true)).toBe('cancelled');
  });
});
