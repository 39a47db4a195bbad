/**
 * The API cannot accept what the workflow would refuse: its bodies are the workflow's own schemas (a
 * session's request, the decision signals' fields), checked here over generated near-valid input.
 */
import fc from 'fast-check';
import { body } from './arbitraries';
import { ApproveBodySchema, CreateSessionBodySchema, MessageBodySchema } from '../../src/contract/api';
import { ApproveSignalSchema, SendMessageSignalSchema, SessionInputSchema } from '../../src/contract/session-schemas';

test('every create body the API accepts is a session input the workflow accepts, with the same durations', () => {
  let accepted = 0;
  fc.assert(
    fc.property(body, (raw) => {
      const { message: _message, ...candidate } = raw;
      const api = CreateSessionBodySchema.safeParse(candidate);
      if (!api.success) return;
      accepted++;
      const workflow = SessionInputSchema.safeParse({ ...api.data, requestedBy: 'acme-tool', tenant: 'acme' });
      expect(workflow.error?.issues ?? []).toEqual([]);
      if (api.data.review?.timeout !== undefined) expect(workflow.data!.review.timeout).toBe(api.data.review.timeout);
    }),
    { numRuns: 3_000, seed: 20261126 },
  );
  console.log(`create bodies: ${accepted} of 3000 accepted by the API, all accepted by the workflow`);
  expect(accepted).toBeGreaterThan(100);
});

test('every approval and message the API accepts is a signal the workflow accepts', () => {
  let accepted = 0;
  fc.assert(
    fc.property(body, fc.boolean(), (raw, approve) => {
      const { message, avatarId, voiceId, files } = raw;
      const candidate = approve ? { message } : { message, avatarId, voiceId, files };
      const api = (approve ? ApproveBodySchema : MessageBodySchema).safeParse(JSON.parse(JSON.stringify(candidate)));
      if (!api.success) return;
      accepted++;
      const signal = (approve ? ApproveSignalSchema : SendMessageSignalSchema).safeParse({ ...api.data, requestId: 'req-1', by: 'acme-tool' });
      expect(signal.error?.issues ?? []).toEqual([]);
    }),
    { numRuns: 3_000, seed: 20261126 },
  );
  console.log(`decision bodies: ${accepted} of 3000 accepted by the API, all accepted by the workflow`);
  expect(accepted).toBeGreaterThan(100);
});
