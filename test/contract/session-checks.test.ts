/**
 * The workflow checks its input and signals without zod (src/contract/session-checks.ts, so the workflow
 * bundle does not carry zod: about 1.5 MiB per cached session). Held here to the zod schemas over
 * generated input: the same inputs accepted and the same values out.
 */
import fc from 'fast-check';
import type { z } from 'zod';
import {
  checkApproveSignal,
  checkDecisionOutcomeInput,
  checkHeygenEventSignal,
  checkSendMessageSignal,
  checkSessionInput,
  resolveTiming,
  type Checked,
} from '../../src/contract/session-checks';
import {
  ApproveSignalSchema,
  DecisionOutcomeInputSchema,
  HeygenEventSignalSchema,
  SendMessageSignalSchema,
  SessionInputSchema,
  TimingSchema,
} from '../../src/contract/session-schemas';
import { body, junk, sessionInput, text } from './arbitraries';

function agree(schema: z.ZodType, check: (raw: unknown) => Checked<unknown>, raw: unknown, counts: { accepted: number; refused: number }): void {
  const expected = schema.safeParse(raw);
  const actual = check(raw);
  expect({ raw, ok: actual.ok }).toEqual({ raw, ok: expected.success });
  if (actual.ok && expected.success) {
    expect(actual.value).toEqual(expected.data);
    counts.accepted++;
  } else {
    if (!actual.ok) expect(actual.problems.length).toBeGreaterThan(0);
    counts.refused++;
  }
}

const runs = { numRuns: 4_000, seed: 20261126 };

test('a session input: accepted exactly when SessionInputSchema accepts it, with the same defaults and durations', () => {
  const counts = { accepted: 0, refused: 0 };
  fc.assert(
    fc.property(fc.oneof({ arbitrary: sessionInput, weight: 20 }, { arbitrary: junk, weight: 1 }), (raw) => agree(SessionInputSchema, checkSessionInput, raw, counts)),
    runs,
  );
  console.log(`session inputs: ${counts.accepted} accepted, ${counts.refused} refused, by both`);
  expect(counts.accepted).toBeGreaterThan(100);
  expect(counts.refused).toBeGreaterThan(100);
});

test('a full input, every field set, comes out as the schema has it', () => {
  const raw = {
    prompt: 'A launch video',
    avatarId: 'av_1',
    voiceId: 'vo_1',
    orientation: 'portrait',
    files: [
      { type: 'asset_id', assetId: 'as_1' },
      { type: 'url', url: ' https://cdn.example.com/a.png ' },
      { type: 'base64', mediaType: 'image/png', data: 'aGk=' },
    ],
    autoApprove: true,
    review: { timeout: '48h', onTimeout: 'approve' },
    labels: { team: 'growth', 'cost.center': '42' },
    notify: { url: 'https://hooks.example.com/vao', events: ['session.completed', 'session.failed'] },
    requestedBy: 'acme-tool',
    tenant: 'acme',
    timing: { pollInitial: '5s', pollMax: 60_000, pollBackoff: 1.5, maxThinking: '1h', unknownStatusLimit: 3, maxReapprovals: 0, notifyRetryWindow: '2h' },
  };
  const checked = checkSessionInput(raw);
  expect(checked).toEqual({ ok: true, value: SessionInputSchema.parse(raw) });
});

test('the timing a session resolves is the schema\'s', () => {
  const parsed = SessionInputSchema.parse({ prompt: 'x', timing: { pollInitial: '5s', maxReapprovals: 0 } });
  expect(resolveTiming(parsed.timing)).toEqual(TimingSchema.parse(parsed.timing));
  expect(resolveTiming(undefined)).toEqual(TimingSchema.parse({}));
});

test('approve and sendMessage signals: accepted exactly when their schemas accept them, with the same values', () => {
  const counts = { accepted: 0, refused: 0 };
  const signal = fc.tuple(body, fc.record({ requestId: text, by: text, extra: junk }, { requiredKeys: [] })).map(([b, added]) => ({ ...b, ...added }));
  fc.assert(
    fc.property(fc.oneof({ arbitrary: signal, weight: 20 }, { arbitrary: junk, weight: 1 }), (raw) => {
      agree(ApproveSignalSchema, (value) => checkApproveSignal(value), raw ?? {}, counts);
      agree(SendMessageSignalSchema, checkSendMessageSignal, raw, counts);
    }),
    runs,
  );
  console.log(`decision signals: ${counts.accepted} accepted, ${counts.refused} refused, by both`);
  expect(counts.accepted).toBeGreaterThan(100);
  expect(counts.refused).toBeGreaterThan(100);
});

test('heygenEvent and the decisionOutcome update: the same verdicts as their schemas', () => {
  const counts = { accepted: 0, refused: 0 };
  const event = fc.record({ eventType: fc.oneof(text, junk), eventId: fc.oneof(text, junk), extra: junk }, { requiredKeys: [] });
  const outcome = fc.record({ requestId: fc.oneof(text, junk), extra: junk }, { requiredKeys: [] });
  fc.assert(
    fc.property(fc.oneof(event, junk), fc.oneof(outcome, junk), (rawEvent, rawOutcome) => {
      agree(HeygenEventSignalSchema, checkHeygenEventSignal, rawEvent, counts);
      agree(DecisionOutcomeInputSchema, checkDecisionOutcomeInput, rawOutcome, counts);
    }),
    runs,
  );
  expect(counts.accepted).toBeGreaterThan(100);
  expect(counts.refused).toBeGreaterThan(100);
});
