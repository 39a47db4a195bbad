/** Generators of near-valid session input and decisions, shared by the contract's property tests. */
import fc from 'fast-check';

// Mostly near the edges of valid, so both sides of every bound are exercised.
export const text = fc.oneof(
  { arbitrary: fc.string({ minLength: 1, maxLength: 30 }), weight: 12 },
  { arbitrary: fc.string({ minLength: 195, maxLength: 205 }), weight: 1 },
  { arbitrary: fc.constant(''), weight: 1 },
  { arbitrary: fc.constant('x'.repeat(10_001)), weight: 1 },
);
export const duration = fc.oneof(
  { arbitrary: fc.integer({ min: -5, max: 400 * 86_400_000 }), weight: 3 },
  { arbitrary: fc.double({ noNaN: false }), weight: 1 },
  { arbitrary: fc.tuple(fc.nat({ max: 99_999_999_999 }), fc.constantFrom('ms', 's', 'm', 'h', 'd', '', 'w')).map(([n, unit]) => `${n}${unit}`), weight: 4 },
  { arbitrary: fc.tuple(fc.nat({ max: 400 }), fc.constantFrom('s', 'm', 'h', 'd')).map(([n, unit]) => `${n}${unit}`), weight: 4 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
);
export const file = fc.oneof(
  fc.record({ type: fc.constant('asset_id'), assetId: text }),
  fc.record({ type: fc.constant('url'), url: fc.oneof({ arbitrary: fc.webUrl(), weight: 4 }, { arbitrary: fc.string(), weight: 1 }) }),
  fc.record({ type: fc.constant('base64'), mediaType: text, data: text }),
);
export const body = fc.record(
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


/** Anything a caller, an operator's tool or a hand-written signal might pass. */
export const junk = fc.oneof(fc.constant(null), fc.constant(undefined), fc.integer(), fc.string({ maxLength: 5 }), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({}));

/** Now and then a key no schema knows. */
const withStray = <T extends object>(arbitrary: fc.Arbitrary<T>) =>
  fc.tuple(arbitrary, fc.oneof({ arbitrary: fc.constant(false), weight: 9 }, { arbitrary: fc.constant(true), weight: 1 })).map(([value, stray]) => (stray ? { ...value, stray: 1 } : value));

const timing = fc.record(
  {
    pollInitial: duration,
    pollMax: duration,
    pollBackoff: fc.oneof(fc.double({ min: 0, max: 12, noNaN: false }), fc.constantFrom(1, 10, '2')),
    maxThinking: duration,
    unknownStatusLimit: fc.oneof(fc.integer({ min: -1, max: 1_001 }), fc.constant(1.5)),
    maxReapprovals: fc.oneof(fc.integer({ min: -1, max: 6 }), fc.constant(0.5)),
    activityHeartbeatTimeout: duration,
  },
  { requiredKeys: [] },
).chain((value) => withStray(fc.constant(value)));

/** A workflow input: a create body plus what the API adds, and now and then something it never sends. */
const anyInput = fc
  .tuple(
    body,
    fc.record(
      {
        requestedBy: text,
        tenant: text,
        timing,
        notify: fc.record(
          {
            url: fc.oneof({ arbitrary: fc.webUrl(), weight: 4 }, { arbitrary: fc.constantFrom(' https://a.example/x ', 'http:a.example', 'ftp://a.example', 'https://a.example/\ty'), weight: 1 }, { arbitrary: fc.string(), weight: 1 }),
            events: fc.array(fc.constantFrom('session.completed', 'session.failed', 'session.nope'), { maxLength: 3 }),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
  )
  .chain(([{ message: _message, ...request }, added]) => withStray(fc.constant({ ...request, ...added })));

export const sessionInput = fc.oneof(
  { arbitrary: body.map(({ message: _message, ...request }) => ({ ...request, requestedBy: 'acme-tool', tenant: 'acme' })), weight: 3 },
  { arbitrary: anyInput, weight: 2 },
);
