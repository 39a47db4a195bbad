/**
 * Every gRPC status Temporal can answer with becomes a documented API error, never a 500.
 */
import { readFileSync } from 'node:fs';
import { ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { ERROR_STATUS } from '../../src/api/errors';
import { apiErrorFromTemporal, GRPC } from '../../src/api/temporal-errors';

const docs = readFileSync(`${__dirname}/../../docs/api.md`, 'utf8');
const grpcError = (code: number) => Object.assign(new Error(`${code} grpc`), { code });

describe.each(Object.entries(GRPC))('%s', (name, code) => {
  test.each(['server', 'worker'] as const)('answered by the %s: a documented API error, not a 500', (by) => {
    const error = apiErrorFromTemporal(new ServiceError('call failed', { cause: grpcError(code) }), by);
    expect(error).toBeDefined();
    expect(error!.code).not.toBe('internal_error');
    expect(error!.status).toBe(ERROR_STATUS[error!.code]);
    // The docs' table names the gRPC code and the API error it becomes.
    expect(docs).toMatch(new RegExp(`\\n\\| [^|\\n]*\`${name}\`[^\\n]*\`${error!.code}\``));
  });
});

test('the timeouts and the missing poller say a worker did not answer when only a worker could have', () => {
  for (const code of [GRPC.DEADLINE_EXCEEDED, GRPC.CANCELLED, GRPC.FAILED_PRECONDITION]) {
    expect(apiErrorFromTemporal(grpcError(code), 'worker')!.code).toBe('worker_unavailable');
    expect(apiErrorFromTemporal(grpcError(code), 'server')!.code).toBe('temporal_unavailable');
  }
});

test('a missing workflow is a 404; an error that is not Temporal\'s is left alone', () => {
  expect(apiErrorFromTemporal(new WorkflowNotFoundError('gone', 'session-x', undefined), 'server')!.code).toBe('not_found');
  expect(apiErrorFromTemporal(new TypeError('a bug of ours'), 'server')).toBeUndefined();
});
