/**
 * The API cannot accept what the workflow would refuse: its bodies are the workflow's own schemas (a
 * session's request, the decision signals' fields), checked here over generated near-valid input.
 */
import fc from 'fast-check';
import { ApproveBodySchema, CreateSessionBodySchema, MessageBodySchema } from '../../src/contract/api';
import { ApproveSignalSchema, SendMessageSignalSchema, SessionInputSchema } from '../../src/contract/session';

// Mostly near the edges of valid, so both sides of every bound are exercised.
const text = fc.oneof(
  { arbitrary: fc.string({ minLength: 1, maxLength: 30 }), weight: 12 },
  { arbitrary: fc.string({ minLength: 195, maxLength: 205 }), weight: 1 },
  { arbitrary: fc.constant(''), weight: 1 },
  { arbitrary: fc.constant('x'.repeat(10_001)), weight: 1 },
);
const duration = fc.oneof(
  { arbitrary: fc.integer({ min: -5, max: 400 * 86_400_000 }), weight: 3 },
  { arbitrary: fc.double({ noNaN: false }), weight: 1 },
  { arbitrary: fc.tuple(fc.nat({ max: 99_999_999_999 }), fc.constantFrom('ms', 's', 'm', 'h', 'd', '', 'w')).map(([n, unit]) => `${n}${unit}`), weight: 4 },
  { arbitrary: fc.tuple(fc.nat({ max: 400 }), fc.constantFrom('s', 'm', 'h', 'd')).map(([n, unit]) => `${n}${unit}`), weight: 4 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
);
const file = fc.oneof(
  fc.record({ type: fc.constant('asset_id'), assetId: text }),
  fc.record({ type: fc.constant('url'), url: fc.oneof({ arbitrary: fc.webUrl(), weight: 4 }, { arbitrary: fc.string(), weight: 1 }) }),
  fc.record({ type: fc.constant('base64'), mediaType: text, data: text }),
);
const body = fc.record(
  {
    prompt: text,
    avatarId: text,
    voiceId: text,
    orientation: fc.constantFrom('landscape', 'portrait', 'portrait', 'square'),
    files: fc.array(file, { maxLength: 3 }),
    autoApprove: fc.boolean(),
    review: fc.record({ timeout: duration, onTimeout: fc.constantFrom('stop', 'approve', 'wait') }, { requiredKeys: [] }),
    labels: fc.dictionary(fc.oneof({ arbitrary: fc.stringMatching(/^[a-z]{1,8}$/), weight: 8 }, { arbitrary: fc.string(), weight: 1 }), fc.string({ maxLength: 205 }), { maxKeys: 21 }),
    message: text,
  },
  { requiredKeys: [] },
);

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
