/**
 * Property: whatever a caller throws at any route the app registers (generated paths, ids, methods,
 * tokens, headers, content types, bodies, signed and forged webhooks), the API answers below 500 (but
 * for the documented 503 once its deadline for Temporal or a worker has passed, as on a loaded machine it
 * may: counted, not a finding), never with a stack trace, with the `{error: {code, message, requestId}}` envelope on every JSON error, and
 * without a valid token every route that needs one answers 401 before anything else is looked at.
 *
 * The routes come from the running app (`printRoutes`), so a new route is fuzzed without touching this
 * file. Requests are generated up front with fast-check from a fixed seed (FUZZ_SEED overrides it,
 * FUZZ_REQUESTS the count, FUZZ_CONCURRENCY the parallelism), then sent over real HTTP with keep-alive.
 * Every violation is collected; the test fails at the end listing them, grouped, so one run reports all.
 * A finding names its request number: the same seed and count regenerate the same request.
 */
import { Agent, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { webhookHeaders } from '../../src/contract/heygen-webhooks';
import { DEFAULT_SIMULATOR_WEBHOOK_SECRET } from '../../src/contract/simulator';
import { startApiHarness, TOKENS, type ApiHarness, type TokenName } from '../harness/api';
import { eventually } from '../harness/wait';

function envInt(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative integer, not ${value}`);
  return parsed;
}

const SEED = envInt('FUZZ_SEED', 20261126);
const REQUESTS = envInt('FUZZ_REQUESTS', 10_000);
const CONCURRENCY = Math.max(1, envInt('FUZZ_CONCURRENCY', 12));
/** FUZZ_ONLY=12,345: send only these of the generated requests (to replay findings), printing each answer. */
const ONLY = (process.env.FUZZ_ONLY ?? '').split(',').filter(Boolean).map(Number);
/** How many findings the failure lists in full (FUZZ_SHOW). */
const SHOW = envInt('FUZZ_SHOW', 20);
/** A request still unanswered after this long is a finding (no-response). */
const RESPONSE_TIMEOUT_MS = 30_000;
const VALID_TOKENS = Object.values(TOKENS).map((t) => t.token);

// ---------------------------------------------------------------------------------------------------
// The routes, from the running app.

interface Route {
  method: string;
  /** The path as registered: `/v1/sessions/:id`, `/docs/*`. */
  path: string;
}

/** Parses `printRoutes({ commonPrefix: false })`: a tree of path pieces, each with its methods. */
function registeredRoutes(app: FastifyInstance): Route[] {
  const routes: Route[] = [];
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (.+?)(?: \(([^()]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const path = (depth > 0 ? prefixes[depth - 1]! : '') + match[2]!;
    prefixes.length = depth;
    prefixes[depth] = path;
    for (const method of (match[3] ?? '').split(',')) if (method.trim()) routes.push({ method: method.trim(), path });
  }
  return routes;
}

/** Everything under /v1 needs a bearer token, except HeyGen's webhook (signed instead): docs/api.md. */
const requiresToken = (path: string) => path.startsWith('/v1/') && !path.startsWith('/v1/webhooks/');

const routeKey = (method: string, path: string) => `${method} ${path}`;

// ---------------------------------------------------------------------------------------------------
// Strings and encodings.

const hex2 = (byte: number) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;

/** Percent-encodes everything but unreserved characters, via UTF-8 (lone surrogates become U+FFFD). */
function pct(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'), (byte) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : hex2(byte))).join('');
}

/**
 * A path fragment Node will send as is: characters a request line may not hold, and `/ ? #` (which
 * would take the request to another route), are percent-encoded; `%` is kept, so junk escapes survive.
 */
function pathFragment(raw: string): string {
  let out = '';
  for (const ch of raw) out += /^[\x21-\xff]$/.test(ch) && !'/?#'.includes(ch) ? ch : pct(ch);
  return out;
}

/** A query string Node will send: only characters outside \x21-\xff are encoded. */
const queryText = (raw: string) => Array.from(raw, (ch) => (/^[\x21-\xff]$/.test(ch) ? ch : pct(ch))).join('');

const charOf = (min: number, max: number) => fc.integer({ min, max }).map((code) => String.fromCharCode(code));
/** Characters Node accepts in a header value (sent as latin1). */
const headerChar = fc.oneof({ weight: 12, arbitrary: charOf(0x20, 0x7e) }, { weight: 2, arbitrary: charOf(0x80, 0xff) }, { weight: 1, arbitrary: fc.constant('\t') });
const headerString = (maxLength: number, minLength = 0) => fc.string({ unit: headerChar, minLength, maxLength });
const loneSurrogates = fc.constantFrom('\ud800', '\udfff', '\udc00x', '\ud83d', 'a\ud800b', '\ud800\ud800', '\udc00\ud800');
const surrogateString = fc.array(fc.oneof(loneSurrogates, fc.string({ maxLength: 6 })), { maxLength: 5 }).map((parts) => parts.join(''));
/** Escapes that JSON.parse turns into lone surrogates, NULs and the like. */
const jsonEscape = fc.constantFrom('\\ud800', '\\udfff', '\\ud800\\ud800', '\\udc00\\ud800', '\\u0000', '\\ud83d\\ude00', '\\u202e', '\\uffff', '\\ufeff');
const anyString = fc.oneof({ weight: 6, arbitrary: fc.string({ maxLength: 40 }) }, { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) }, { weight: 1, arbitrary: surrogateString });

// ---------------------------------------------------------------------------------------------------
// Generated requests: a plain description, turned into bytes when sent (ids of sessions created
// during the run, timestamps and signatures are only known then).

type IdSpec = { kind: 'literal'; raw: string; label: string } | { kind: 'pool'; pool: 'real' | 'created'; index: number };

type BodySpec =
  | { kind: 'text'; label: string; text: string }
  | { kind: 'bytes'; label: string; bytes: Uint8Array }
  | { kind: 'deep'; label: string; depth: number; open: string; close: string; wrap: 'top' | 'labels' | 'message' | 'event' }
  | { kind: 'big'; label: string; size: number; field: 'prompt' | 'message' | 'raw' };

type Encoding = 'declared' | 'utf8' | 'utf16le' | 'latin1';

interface Common {
  authorization: string | undefined;
  contentType: string | undefined;
  encoding: Encoding;
  idempotencyKey: string | undefined;
  requestId: string | undefined;
  accept: string | undefined;
  webhook: { 'heygen-signature'?: string; 'heygen-timestamp'?: string; 'heygen-event-id'?: string };
  chunked: boolean;
  query: string;
  /** Send the Content-Type even without a body. */
  contentTypeAlways: boolean;
  /** Keep the query on a POST (mostly dropped: POST routes take none). */
  queryOnPost: boolean;
}

interface RouteSpec extends Common {
  target: 'route';
  route: Route;
  /** Another method on the route's path (PUT, DELETE, PATCH, ...), usually not registered. */
  method: string | undefined;
  id: IdSpec;
  wildcard: string;
  body: BodySpec | undefined;
  /** Bodies shaped for the create, approve and messages routes; used instead of `body` when `fit`. */
  fitting: { create: BodySpec; approve: BodySpec; message: BodySpec };
  fit: boolean;
}

interface UnknownSpec extends Common {
  target: 'unknown';
  method: string;
  path: string;
  body: BodySpec | undefined;
}

type Signing = 'valid' | 'stale' | 'future' | 'wrong-secret' | 'tampered' | 'other-body' | 'uppercase' | 'missing-signature' | 'missing-timestamp' | 'missing-event-id' | 'bad-timestamp' | 'none';

interface WebhookSpec extends Common {
  target: 'webhook';
  signing: Signing;
  skewSeconds: number;
  badTimestamp: string;
  eventId: string;
  payload:
    | { kind: 'event'; eventType: string; sessionId: string | null | undefined; videoId: string | null | undefined; callback: IdSpec | null | undefined | { kind: 'escape'; escape: string }; extra: unknown }
    | { kind: 'body'; body: BodySpec | undefined };
}

type Spec = RouteSpec | UnknownSpec | WebhookSpec;

const authorization = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(...VALID_TOKENS).map((token) => `Bearer ${token}`) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom('bearer', 'BEARER', 'bEaReR'), fc.constantFrom(' ', '  ', '\t', ' \t', '\xa0'), fc.constantFrom(...VALID_TOKENS), fc.constantFrom('', ' ', '\t'))
      .map(([scheme, gap, token, end]) => `${scheme}${gap}${token}${end}`),
  },
  { weight: 22, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: headerString(60).map((token) => `Bearer ${token}`) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...VALID_TOKENS), fc.constantFrom('suffix', 'prefix', 'truncated', 'upper', 'quoted', 'twice', 'no-scheme', 'basic', 'token-scheme'))
      .map(([token, how]) =>
        ({
          suffix: `Bearer ${token}x`,
          prefix: `Bearer x${token}`,
          truncated: `Bearer ${token.slice(0, -1)}`,
          upper: `Bearer ${token.toUpperCase()}`,
          quoted: `Bearer "${token}"`,
          twice: `Bearer ${token} ${token}`,
          'no-scheme': token,
          basic: `Basic ${Buffer.from(`${token}:`).toString('base64')}`,
          'token-scheme': `Token ${token}`,
        })[how],
      ),
  },
  { weight: 4, arbitrary: fc.constantFrom('Basic x', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'bearer', '', ' ', 'Bearer null', 'Bearer undefined', 'Bearer a b', 'Digest username="x"', 'Bearer tok_', 'Bearer ,', 'Bearer\t') },
  { weight: 3, arbitrary: headerString(120) },
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 500, max: 12_000 }), fc.constantFrom('a', 'tok_admin_', '\xff')).map(([n, unit]) => `Bearer ${unit.repeat(Math.ceil(n / unit.length))}`) },
  // Over Node's 16 KiB header limit: answered by the HTTP layer (431) before any route.
  { weight: 1, arbitrary: fc.integer({ min: 17_000, max: 40_000 }).map((n) => `Bearer ${'x'.repeat(n)}`) },
);

const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'application/json; charset=UTF-8',
  'application/json;charset=utf-8',
  'application/json; charset="utf-8"',
  'application/json; charset=utf-16',
  'application/json; charset=utf-16le',
  'application/json; charset=utf-16be',
  'application/json; charset=latin1',
  'application/json; charset=iso-8859-1',
  'application/json; charset=us-ascii',
  'application/json; charset=bogus',
  'application/json; charset=',
  'application/json; boundary=x',
  'Application/JSON',
  'application/jsonx',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/vnd.api+json',
  'text/plain',
  'text/plain; charset=utf-8',
  'text/json',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----fuzz',
  'multipart/form-data',
  'application/octet-stream',
  '*/*',
  'garbage',
  '',
  ';',
  'application/',
  '/json',
];

const contentType = fc.oneof(
  { weight: 14, arbitrary: fc.constant('application/json') },
  { weight: 10, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: headerString(80) },
);

const idempotencyKey = fc.oneof(
  { weight: 20, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.string({ unit: charOf(0x21, 0x7e), minLength: 1, maxLength: 200 }) },
  { weight: 2, arbitrary: fc.constantFrom('fuzz-key-1', 'fuzz-key-2', 'fuzz-key-3') },
  { weight: 1, arbitrary: fc.string({ unit: charOf(0x21, 0x7e), minLength: 201, maxLength: 400 }) },
  { weight: 2, arbitrary: headerString(40) },
  { weight: 1, arbitrary: fc.constantFrom('', 'a b', '\xe9t\xe9', 'k'.repeat(200), 'k'.repeat(201)) },
);

const requestIdHeader = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9._:-]{8,100}$/) },
  { weight: 2, arbitrary: headerString(120) },
  { weight: 1, arbitrary: fc.constantFrom('', 'short', 'r'.repeat(101), 'req id with spaces', '../../etc', '<script>') },
);

const accept = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom('application/json', '*/*', 'text/html', 'application/xml', 'text/event-stream', 'application/json;q=0', 'text/plain', 'image/png', '', ',,,', 'application/problem+json') },
  { weight: 1, arbitrary: headerString(60) },
);

const webhookHeaderValues = fc.record(
  {
    'heygen-signature': fc.oneof(headerString(80), fc.stringMatching(/^[0-9a-f]{64}$/)),
    'heygen-timestamp': fc.oneof(headerString(20), fc.constant(String(Math.floor(Date.now() / 1000))), fc.nat().map(String)),
    'heygen-event-id': headerString(60),
  },
  { requiredKeys: [] },
);

const listQuery = fc.oneof(
  { weight: 10, arbitrary: fc.constant('') },
  {
    weight: 5,
    arbitrary: fc
      .record(
        {
          limit: fc.oneof(fc.constantFrom('1', '20', '100', '0', '-1', '101', '1.5', '1e2', 'abc', '', 'NaN', 'Infinity', '0x10', ' 5', '%00', '%zz', '%'), fc.integer().map(String)),
          status: fc.oneof(fc.constantFrom('reviewing', 'completed', 'thinking', 'creating', 'failed', 'Reviewing', '', 'x', '__proto__'), anyString.map(pct)),
          cursor: fc.oneof(
            fc.constantFrom('@real', '@forged', 'abc.def', '.', '..', 'a.b.c', 'e30', '%00', 'x'.repeat(2_001)),
            fc.base64String({ maxLength: 200 }).map(encodeURIComponent),
            anyString.map(pct),
          ),
        },
        { requiredKeys: [] },
      )
      .map((query) => `?${Object.entries(query).map(([name, value]) => `${name}=${value}`).join('&')}`),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom('?', '?&', '?=', '?limit=1&limit=2', '?__proto__[x]=1', '?constructor[prototype][x]=1', '?limit[]=1', '?a[b][c]=1', '?%zz=1', '?limit=%zz', '?#frag', '?limit=5#x', '?status=reviewing&status=thinking', `?cursor=${'%'.repeat(50)}`, `?x=${'y'.repeat(3_000)}`),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((raw) => `?${queryText(raw)}`) },
);

const idSpec: fc.Arbitrary<IdSpec> = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^session-[a-z0-9-]{1,40}$/).map((raw) => ({ kind: 'literal' as const, raw, label: 'session-like' })) },
  { weight: 2, arbitrary: fc.uuid().map((uuid) => ({ kind: 'literal' as const, raw: `session-${uuid}`, label: 'session-like' })) },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9._:-]{1,200}$/).map((raw) => ({ kind: 'literal' as const, raw, label: 'id-charset' })) },
  { weight: 6, arbitrary: fc.nat().map((index) => ({ kind: 'pool' as const, pool: 'real' as const, index })) },
  { weight: 3, arbitrary: fc.nat().map((index) => ({ kind: 'pool' as const, pool: 'created' as const, index })) },
  { weight: 3, arbitrary: anyString.map((raw) => ({ kind: 'literal' as const, raw: pct(raw) || 'x', label: 'garbage-encoded' })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: 190, max: 3_000 }), fc.constantFrom('a', 'session-', '%41', '..%2F'))
      .map(([n, unit]) => ({ kind: 'literal' as const, raw: unit.repeat(Math.ceil(n / unit.length)).slice(0, n), label: n > 200 ? 'over-long' : 'long' })),
  },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(
        '..%2F', '..%2F..', '..%2f..%2fetc%2fpasswd', '%2e%2e', '%2E%2E%2F', '..', '.', '...', '%zz', '%', '%2', '%00', '%0A', '%0d%0a', '%C0%AF',
        '%FF%FE', '%ED%A0%80', '%E2%80%AE', '%F0%9F%98%80', '%20', '+', '~', ':', '@', "!$&'()*+,;=", '%252F', 'a%2Fb', 'a%5Cb', '\\', '..\\..',
        '%u0041', '%%', 'null', 'undefined', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '-1', 'session-', '-', '.session', 'session-x:y.z_w',
      )
      .map((raw) => ({ kind: 'literal' as const, raw, label: 'junk' })),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.oneof(fc.constant('%'), fc.integer({ min: 0, max: 255 }).map(hex2), fc.constantFrom('%G1', '%1', 'a')), { minLength: 1, maxLength: 12 })
      .map((parts) => ({ kind: 'literal' as const, raw: parts.join(''), label: 'percent-junk' })),
  },
  { weight: 1, arbitrary: fc.string({ unit: charOf(0x80, 0xff), minLength: 1, maxLength: 5 }).map((raw) => ({ kind: 'literal' as const, raw, label: 'raw-latin1' })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'literal' as const, raw: '', label: 'empty' }) },
);

const wildcard = fc.oneof(
  fc.constantFrom('index.html', 'swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'oauth2-redirect.html', '../package.json', '..%2F..%2Fpackage.json', '%2e%2e/%2e%2e/etc/passwd', 'static/../../x', 'json', 'yaml', '', '%zz', 'a'.repeat(300)),
  anyString.map(pct),
);

const fileEntry = fc.record(
  { type: fc.constantFrom('asset_id', 'url', 'base64', 'x'), assetId: anyString, url: fc.oneof(fc.webUrl(), anyString), data: anyString, mediaType: fc.constantFrom('image/png', '', 'x') },
  { requiredKeys: ['type'] },
);

const createBody = fc.oneof(
  // Valid: starts sessions (which park at their first checkpoint or finish quickly on the simulator).
  {
    weight: 4,
    arbitrary: fc
      .record(
        {
          prompt: fc.string({ minLength: 1, maxLength: 60 }).map((text) => `fuzz ${text.replace(/\[\[/g, '[')}`),
          orientation: fc.constantFrom('landscape', 'portrait'),
          autoApprove: fc.boolean(),
          labels: fc.dictionary(fc.stringMatching(/^[a-z]{1,10}$/), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
          review: fc.record({ timeout: fc.constantFrom('30s', '15m', '7d'), onTimeout: fc.constantFrom('stop', 'approve') }, { requiredKeys: [] }),
        },
        { requiredKeys: ['prompt'] },
      )
      .map((body) => ({ label: 'create-valid', value: body as unknown })),
  },
  // Near-valid: every field, with random values.
  {
    weight: 6,
    arbitrary: fc
      .record(
        {
          prompt: fc.oneof(anyString, fc.constant(''), fc.integer(), fc.constant('x'.repeat(10_001)), fc.constant('[[sim think=bogus]]')),
          avatarId: anyString,
          voiceId: fc.oneof(anyString, fc.constant(null)),
          orientation: fc.oneof(fc.constantFrom('landscape', 'portrait', 'square'), anyString),
          files: fc.array(fileEntry, { maxLength: 22 }),
          review: fc.record({ timeout: fc.oneof(anyString, fc.integer(), fc.constantFrom('99990000d', '366d', '0s', '-1s', '1e309')), onTimeout: anyString }, { requiredKeys: [] }),
          labels: fc.oneof(fc.dictionary(anyString, anyString, { maxKeys: 25 }), fc.anything()),
          autoApprove: fc.anything(),
          avatar_id: anyString,
        },
        { requiredKeys: [] },
      )
      .map((body) => ({ label: 'create-near-valid', value: body as unknown })),
  },
);

const approveBody = fc
  .oneof(fc.constant({}), fc.record({ message: fc.oneof(anyString, fc.constant(''), fc.integer(), fc.constant(null)), extra: anyString }, { requiredKeys: [] }))
  .map((value) => ({ label: 'approve-near-valid', value: value as unknown }));

const messageBody = fc
  .record(
    {
      message: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), anyString, fc.constant(''), fc.integer(), fc.constant('m'.repeat(10_001))),
      avatarId: anyString,
      voiceId: anyString,
      files: fc.array(fileEntry, { maxLength: 3 }),
      auto_proceed: fc.boolean(),
    },
    { requiredKeys: [] },
  )
  .map((value) => ({ label: 'message-near-valid', value: value as unknown }));

/** JSON text with a `__proto__`, `constructor` or `prototype` key (JSON.stringify never writes `__proto__` as a key). */
const protoBody = fc
  .tuple(
    fc.oneof(createBody, approveBody, messageBody),
    fc.constantFrom('__proto__', 'constructor', 'prototype'),
    fc.constantFrom('{"polluted":true}', '{"prototype":{"polluted":true}}', 'null', '1', '"x"', '[]', '{"__proto__":{"a":1}}'),
    fc.constantFrom('first', 'last', 'nested'),
  )
  .map(([{ value }, key, inner, where]) => {
    const text = JSON.stringify(value);
    const entry = `"${key}":${inner}`;
    const body = text === '{}' || !text.startsWith('{') ? `{${entry}}` : where === 'first' ? `{${entry},${text.slice(1)}` : where === 'last' ? `${text.slice(0, -1)},${entry}}` : `{"labels":{${entry}},${text.slice(1)}`;
    return { kind: 'text' as const, label: `proto-key`, text: body };
  });

const surrogateBody = fc
  .tuple(fc.constantFrom('prompt', 'message', 'labels-key', 'labels-value', 'idem'), jsonEscape, fc.string({ maxLength: 10 }))
  .map(([field, escape, text]) => {
    const s = `${JSON.stringify(text).slice(1, -1)}${escape}`;
    const body = field === 'labels-key' ? `{"prompt":"x","labels":{"${s}":"v"}}` : field === 'labels-value' ? `{"prompt":"x","labels":{"k":"${s}"}}` : field === 'idem' ? `{"prompt":"${s}","message":"${s}"}` : `{"${field}":"${s}"}`;
    return { kind: 'text' as const, label: 'json-escaped-surrogate', text: body };
  });

const rawSurrogateBody = surrogateString.map((text) => ({ kind: 'text' as const, label: 'raw-lone-surrogate', text: JSON.stringify({ prompt: text, message: text }) }));

const nonJson = fc.oneof(
  fc.constantFrom(
    '{', '{"prompt":', 'null', 'undefined', 'NaN', '[]', '""', '0', 'true', 'prompt=x&message=y', '<xml/>', '\u0000', '{"prompt":"x"}garbage', '{"prompt":"x"}{"prompt":"y"}',
    '\ufeff{"prompt":"x"}', "{'prompt':'x'}", '{"prompt":"x",}', '{"prompt":"x"', ' ', '\r\n', '{"prompt":"\\x"}', '{"prompt":"\\u12"}', '1e999', '-', '[' + ','.repeat(100) + ']',
    '------fuzz\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx\r\n------fuzz--\r\n',
  ),
  anyString,
);

const deepBody = fc
  .tuple(fc.integer({ min: 50, max: 250_000 }), fc.constantFrom(['[', ']'], ['{"a":', '}'], ['[{"a":', '}]']), fc.constantFrom('top', 'labels', 'message', 'event'))
  .map(([depth, [open, close], wrap]) => ({ kind: 'deep' as const, label: `deep-json`, depth, open: open!, close: close!, wrap: wrap as 'top' | 'labels' | 'message' | 'event' }));

const bodySpec: fc.Arbitrary<BodySpec | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constant({ kind: 'text' as const, label: 'empty', text: '' }) },
  { weight: 8, arbitrary: fc.oneof(createBody, approveBody, messageBody).map(({ label, value }) => ({ kind: 'text' as const, label, text: JSON.stringify(value) ?? 'null' })) },
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => ({ kind: 'text' as const, label: 'arbitrary-json', text: JSON.stringify(value) })) },
  { weight: 3, arbitrary: protoBody },
  { weight: 2, arbitrary: surrogateBody },
  { weight: 1, arbitrary: rawSurrogateBody },
  { weight: 3, arbitrary: nonJson.map((text) => ({ kind: 'text' as const, label: 'non-json', text })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: 'bytes' as const, label: 'binary', bytes })) },
  { weight: 1, arbitrary: deepBody },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 900_000, max: 1_200_000 }), fc.constantFrom('prompt', 'message', 'raw')).map(([size, field]) => ({ kind: 'big' as const, label: 'big', size, field: field as 'prompt' | 'message' | 'raw' })) },
);

const encoding: fc.Arbitrary<Encoding> = fc.oneof({ weight: 10, arbitrary: fc.constant('declared' as const) }, { weight: 1, arbitrary: fc.constantFrom('utf8' as const, 'utf16le' as const, 'latin1' as const) });

const common = fc.record({
  authorization,
  contentType,
  encoding,
  idempotencyKey,
  requestId: requestIdHeader,
  accept,
  webhook: fc.oneof({ weight: 8, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: webhookHeaderValues }),
  chunked: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  query: listQuery,
  contentTypeAlways: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  queryOnPost: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const OTHER_METHODS = ['PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'GET', 'POST', 'TRACE', 'PROPFIND', 'SEARCH', 'PURGE'];

const UNKNOWN_PATHS = [
  '/', '/v1', '/v1/', '/v2/sessions', '/v1/sessions/', '/V1/SESSIONS', '/v1/sessions/x/unknown', '/v1/sessions/x/approve/extra', '//v1/sessions', '/v1//sessions',
  '/v1/webhooks', '/v1/webhooks/', '/v1/webhooks/heygen/', '/v1/webhooks/other', '/%zz', '/v1/%2e%2e/healthz', '/../etc/passwd', '/docs/../openapi.json', '/healthz/',
  '/healthz/x', '/metrics.json', '/openapi.yaml', '/v1/capacity/x', '/v1/sessions/x/video/x', '/.env', '/admin', '/v1/sessions;x', '/v1/sessions%2Fx', '*',
  'http://example.com/healthz', '/%00', '/\xe9', `/${'a'.repeat(5_000)}`,
];

const unknownSpec = fc
  .tuple(
    common,
    fc.constantFrom(...OTHER_METHODS),
    fc.oneof(fc.constantFrom(...UNKNOWN_PATHS), fc.array(anyString.map(pct), { minLength: 1, maxLength: 4 }).map((segments) => `/${segments.join('/')}`)),
    bodySpec,
  )
  .map(([c, method, path, body]): UnknownSpec => ({ ...c, target: 'unknown', method, path, body }));

const webhookSpec = fc
  .tuple(
    common,
    fc.oneof(
      { weight: 10, arbitrary: fc.constant<Signing>('valid') },
      { weight: 1, arbitrary: fc.constantFrom<Signing>('stale', 'future', 'wrong-secret', 'tampered', 'other-body', 'uppercase', 'missing-signature', 'missing-timestamp', 'missing-event-id', 'bad-timestamp', 'none') },
    ),
    fc.integer({ min: 301, max: 100_000_000 }),
    fc.constantFrom('abc', '1e9', ' 123', '1234567890123', '-1', '', '0x10', '1.5', '99999999999999999999'),
    fc.oneof(fc.uuid().map((u) => `evt_${u}`), fc.constantFrom('evt_dup_0', 'evt_dup_1', 'evt_dup_2'), headerString(60, 1), fc.constant('e'.repeat(500))),
    fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant('event' as const),
          eventType: fc.oneof(fc.constantFrom('video_agent.success', 'video_agent.fail', 'video_agent.storyboard_ready', 'avatar_video.success'), anyString),
          sessionId: fc.option(anyString, { nil: undefined }),
          videoId: fc.option(fc.oneof(anyString, fc.constant(null)), { nil: undefined }),
          callback: fc.oneof(
            { weight: 4, arbitrary: idSpec },
            { weight: 1, arbitrary: fc.constantFrom(null, undefined) },
            { weight: 1, arbitrary: jsonEscape.map((escape) => ({ kind: 'escape' as const, escape })) },
          ),
          extra: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
        }),
      },
      { weight: 2, arbitrary: bodySpec.map((body) => ({ kind: 'body' as const, body })) },
    ),
  )
  .map(
    ([c, signing, skewSeconds, badTimestamp, eventId, asHeyGenSends, payload]): WebhookSpec => ({
      ...c,
      contentType: asHeyGenSends ? 'application/json' : c.contentType,
      encoding: asHeyGenSends ? 'declared' : c.encoding,
      target: 'webhook',
      signing,
      skewSeconds,
      badTimestamp,
      eventId,
      payload,
    }),
  );

function specArbitrary(routes: Route[]): fc.Arbitrary<Spec> {
  const weight = (route: Route) => (requiresToken(route.path) ? (route.method === 'POST' ? 8 : 5) : route.path.startsWith('/docs') ? 1 : 2);
  const route = fc.oneof(...routes.map((r) => ({ weight: weight(r), arbitrary: fc.constant(r) })));
  const asText = ({ label, value }: { label: string; value: unknown }): BodySpec => ({ kind: 'text', label, text: JSON.stringify(value) ?? 'null' });
  const fitting = fc.record({ create: createBody.map(asText), approve: approveBody.map(asText), message: messageBody.map(asText) });
  const routeSpec = fc
    .tuple(common, route, fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) }), idSpec, wildcard, bodySpec, fitting, fc.boolean())
    .map(([c, r, method, id, wild, body, fit, useFit]): RouteSpec => ({ ...c, target: 'route', route: r, method, id, wildcard: wild, body, fitting: fit, fit: useFit }));
  return fc.oneof({ weight: 80, arbitrary: routeSpec }, { weight: 12, arbitrary: webhookSpec }, { weight: 8, arbitrary: unknownSpec });
}

// ---------------------------------------------------------------------------------------------------
// From description to bytes.

interface Pools {
  real: string[];
  created: string[];
  cursor: string | undefined;
}

interface Concrete {
  index: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  chunked: boolean;
  /** For the summary: the registered route, or what else the request was. */
  label: string;
  /** The route's path when the request was made from one, else the label. */
  template: string;
  /** The (method, path) is registered and needs a token. */
  needsToken: boolean;
  tokenValid: boolean;
  notes: string[];
}

function resolveId(id: IdSpec, pools: Pools): { fragment: string; label: string } {
  if (id.kind === 'pool') {
    const pool = id.pool === 'created' && pools.created.length > 0 ? pools.created : pools.real;
    return { fragment: pool[id.index % pool.length]!, label: `${id.pool}-session` };
  }
  return { fragment: pathFragment(id.raw), label: id.label };
}

function charsetOf(contentType: string | undefined): string | undefined {
  return /charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
}

function encode(text: string, contentType: string | undefined, how: Encoding): Buffer {
  const declared = charsetOf(contentType);
  const target = how !== 'declared' ? how : declared?.startsWith('utf-16') ? (declared === 'utf-16be' ? 'utf16be' : 'utf16le') : declared === 'latin1' || declared === 'iso-8859-1' ? 'latin1' : 'utf8';
  if (target === 'utf16be') return Buffer.from(text, 'utf16le').swap16();
  return Buffer.from(text, target);
}

function bodyText(body: BodySpec): string | Uint8Array {
  switch (body.kind) {
    case 'text':
      return body.text;
    case 'bytes':
      return body.bytes;
    case 'big': {
      const filler = 'x'.repeat(body.size);
      return body.field === 'raw' ? filler : JSON.stringify({ [body.field]: filler });
    }
    case 'deep': {
      const nested = `${body.open.repeat(body.depth)}1${body.close.repeat(body.depth)}`;
      if (body.wrap === 'top') return nested;
      if (body.wrap === 'labels') return `{"prompt":"x","labels":${nested}}`;
      if (body.wrap === 'message') return `{"message":${nested}}`;
      return `{"event_type":"video_agent.success","event_data":{"callback_id":null,"deep":${nested}}}`;
    }
  }
}

/** What the server will see as the bearer token, read the way docs/api.md specifies it. */
function tokenIsValid(header: string | undefined): boolean {
  if (header === undefined) return false;
  // The HTTP parser drops leading and trailing spaces and tabs of a header value.
  const value = header.replace(/^[ \t]+|[ \t]+$/g, '');
  const token = /^Bearer\s+(\S+)\s*$/i.exec(value)?.[1];
  return token !== undefined && VALID_TOKENS.includes(token);
}

function concretize(index: number, spec: Spec, pools: Pools, registered: Set<string>): Concrete {
  const headers: Record<string, string> = {};
  const notes: string[] = [];
  if (spec.authorization !== undefined) headers.authorization = spec.authorization;
  if (spec.idempotencyKey !== undefined) headers['idempotency-key'] = spec.idempotencyKey;
  if (spec.requestId !== undefined) headers['x-request-id'] = spec.requestId;
  if (spec.accept !== undefined) headers.accept = spec.accept;
  for (const [name, value] of Object.entries(spec.webhook)) if (value !== undefined) headers[name] = value;

  let method: string;
  let path: string;
  let label: string;
  let template: string;
  let needsToken = false;
  let body: Buffer | undefined;
  const setBody = (b: BodySpec | undefined) => {
    if (b === undefined) return;
    const text = bodyText(b);
    body = typeof text === 'string' ? encode(text, spec.contentType, spec.encoding) : Buffer.from(text);
    notes.push(`body:${b.label}`);
  };

  if (spec.target === 'route') {
    method = spec.method ?? spec.route.method;
    const id = resolveId(spec.id, pools);
    path = spec.route.path.replace(/:[A-Za-z0-9_]+(?:\([^)]*\))?/g, () => {
      notes.push(`id:${id.label}`);
      return id.fragment;
    });
    if (path.endsWith('*')) path = path.slice(0, -1) + spec.wildcard;
    let query = spec.query.replace('@real', pools.cursor ?? 'none').replace('@forged', `${Buffer.from('forged').toString('base64url')}.${'A'.repeat(22)}`);
    if (method === 'POST' && !spec.queryOnPost) query = '';
    path += queryText(query);
    const isRegistered = registered.has(routeKey(method, spec.route.path));
    needsToken = isRegistered && requiresToken(spec.route.path);
    label = isRegistered ? routeKey(method, spec.route.path) : `(unregistered method) ${method}`;
    template = routeKey(method, spec.route.path);
    // A body shaped for the route (when it takes one), or any body.
    const shaped = method !== 'POST' ? undefined : spec.route.path.endsWith('/approve') ? spec.fitting.approve : spec.route.path.endsWith('/messages') ? spec.fitting.message : spec.route.path === '/v1/sessions' ? spec.fitting.create : undefined;
    if (method !== 'HEAD') setBody(spec.fit && shaped ? shaped : spec.body);
  } else if (spec.target === 'unknown') {
    method = spec.method;
    path = spec.path;
    label = `(unknown path) ${method}`;
    template = label;
    if (method !== 'HEAD') setBody(spec.body);
  } else {
    method = 'POST';
    path = '/v1/webhooks/heygen';
    label = `POST /v1/webhooks/heygen (${spec.signing === 'valid' ? 'signed' : spec.signing})`;
    template = label;
    let raw: Buffer | undefined;
    if (spec.payload.kind === 'event') {
      const p = spec.payload;
      let callback: string | null | undefined;
      let escape = '';
      if (p.callback === null || p.callback === undefined) callback = p.callback;
      else if (p.callback.kind === 'escape') {
        callback = 'session-';
        escape = p.callback.escape;
      } else {
        const id = resolveId(p.callback, pools);
        // A real workflow id, or the generated one as the caller would have written it.
        callback = p.callback.kind === 'pool' ? id.fragment : p.callback.raw;
        notes.push(`callback:${id.label}`);
      }
      const event = { event_type: p.eventType, event_data: { session_id: p.sessionId, video_id: p.videoId, callback_id: callback, ...(p.extra === undefined ? {} : { extra: p.extra }) } };
      let text = JSON.stringify(event);
      if (escape) text = text.replace('"callback_id":"session-', `"callback_id":"session-${escape}`);
      raw = encode(text, spec.contentType, spec.encoding);
      notes.push('body:event');
    } else if (spec.payload.body) {
      const text = bodyText(spec.payload.body);
      raw = typeof text === 'string' ? encode(text, spec.contentType, spec.encoding) : Buffer.from(text);
      notes.push(`body:${spec.payload.body.label}`);
    }
    body = raw;
    const signed = raw ?? Buffer.alloc(0);
    const now = Math.floor(Date.now() / 1000);
    const ts = spec.signing === 'stale' ? now - spec.skewSeconds : spec.signing === 'future' ? now + spec.skewSeconds : now;
    const secret = spec.signing === 'wrong-secret' ? 'whsec_not_the_secret' : DEFAULT_SIMULATOR_WEBHOOK_SECRET;
    const signedHeaders = webhookHeaders(spec.signing === 'other-body' ? Buffer.concat([signed, Buffer.from(' ')]) : signed, secret, spec.eventId, ts);
    delete signedHeaders['content-type'];
    if (spec.signing === 'tampered') signedHeaders['heygen-signature'] = signedHeaders['heygen-signature']!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    if (spec.signing === 'uppercase') signedHeaders['heygen-signature'] = signedHeaders['heygen-signature']!.toUpperCase();
    if (spec.signing === 'bad-timestamp') signedHeaders['heygen-timestamp'] = spec.badTimestamp;
    if (spec.signing !== 'none') Object.assign(headers, signedHeaders);
    const missing = { 'missing-signature': 'heygen-signature', 'missing-timestamp': 'heygen-timestamp', 'missing-event-id': 'heygen-event-id' }[spec.signing as string];
    if (missing) delete headers[missing];
  }

  if (spec.contentType !== undefined && (body !== undefined || spec.contentTypeAlways)) headers['content-type'] = spec.contentType;
  return { index, method, path, headers, body, chunked: spec.chunked && body !== undefined, label, template, needsToken, tokenValid: tokenIsValid(headers.authorization), notes };
}

// ---------------------------------------------------------------------------------------------------
// Sending.

interface Outcome {
  status: number;
  /** From sending to the whole answer (of the last attempt). */
  elapsedMs?: number;
  contentType: string;
  text: string;
  /** The server said `Connection: close` (it does after a request its HTTP parser refused). */
  connectionClosed?: boolean;
  error?: string;
}

/** Sockets that have carried a request: Node's `reusedSocket` misses those handed to queued requests. */
const usedSockets = new WeakSet<object>();

function sendOnce(agent: Agent, port: number, r: Concrete): Promise<Outcome & { reused: boolean }> {
  return new Promise((resolve) => {
    let reused = false;
    const headers: OutgoingHttpHeaders = { ...r.headers };
    if (r.body !== undefined && !r.chunked) headers['content-length'] = String(r.body.length);
    if (r.chunked) headers['transfer-encoding'] = 'chunked';
    let req: ReturnType<typeof httpRequest>;
    try {
      req = httpRequest({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent, timeout: RESPONSE_TIMEOUT_MS }, (res) => {
        // A live event stream of a running session stays open: its head is the answer.
        if (String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), text: '', connectionClosed: true, reused });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
            connectionClosed: res.headers.connection === 'close',
            reused,
          }),
        );
        res.on('error', (error) => resolve({ status: 0, contentType: '', text: '', error: `response: ${error.message} (${reused ? 'reused' : 'fresh'} socket)`, reused }));
      });
      req.on('socket', (socket) => {
        reused = req.reusedSocket || usedSockets.has(socket);
        usedSockets.add(socket);
      });
    } catch (error) {
      resolve({ status: -1, contentType: '', text: '', error: `not sendable: ${(error as Error).message}`, reused: false });
      return;
    }
    req.on('timeout', () => req.destroy(new Error(`no response within ${RESPONSE_TIMEOUT_MS} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: 0, contentType: '', text: '', error: `${error.code ?? ''} ${error.message} (${reused ? 'reused' : 'fresh'} socket)`.trim(), reused }),
    );
    if (r.chunked && r.body) {
      const middle = Math.floor(r.body.length / 2);
      req.write(r.body.subarray(0, middle));
      req.end(r.body.subarray(middle));
    } else {
      req.end(r.body);
    }
  });
}

/**
 * A request that fails on a reused keep-alive socket is retried, as Node advises: the server closes a
 * connection after answering a request its HTTP parser refused (431, 400), and the agent may have handed
 * that socket out again before it saw the close. A failure on a fresh socket is a finding.
 */
async function send(agent: Agent, port: number, r: Concrete): Promise<Outcome> {
  for (let attempt = 0; ; attempt++) {
    const began = performance.now();
    const outcome = await sendOnce(agent, port, r);
    if (outcome.status !== 0 || !outcome.reused || attempt >= CONCURRENCY + 2) return { ...outcome, elapsedMs: performance.now() - began };
  }
}

// ---------------------------------------------------------------------------------------------------
// The properties.

interface Finding {
  kind: '5xx' | 'stack-trace' | 'no-envelope' | 'http-layer-no-envelope' | 'unauthenticated-not-401' | 'no-response';
  request: Concrete;
  outcome: Outcome;
  detail: string;
}

const STACK_TRACE = /(?:\bat\s+(?:[\w$.<>[\] ]+\s+\()?(?:\/|file:\/\/|node:)[^\s)]*:\d+:\d+)|(?:\/(?:src|node_modules)\/[\w./@-]+\.(?:ts|js|mjs|cjs):\d+)/;

/** Node's HTTP parser refuses these before Fastify routes them (431; 400 for bytes over 0x7f in the URL). */
const HTTP_HEADER_LIMIT = 16 * 1024;
const refusedByHttpParser = (r: Concrete) =>
  /[\x80-\xff]/.test(r.path) || Object.entries(r.headers).reduce((n, [name, value]) => n + name.length + value.length + 4, r.path.length + 64) > HTTP_HEADER_LIMIT;
/** What Fastify's default clientErrorHandler writes on the socket then (`{error, message, statusCode}`). */
const HTTP_LAYER_ANSWER = /^\{"error":"[^"]*","message":"[^"]*","statusCode":\d{3}\}$/;

/**
 * The API's deadlines for Temporal (API_TEMPORAL_TIMEOUT) and for a worker's answer (API_QUERY_TIMEOUT):
 * past one, its documented answer is a 503 (`temporal_unavailable`, `worker_unavailable`), which a loaded
 * machine earns honestly. Such a 503 that came after its deadline is counted, not a finding; one that
 * came sooner is (a HEAD's has no body to name its code: the shorter deadline must have passed).
 */
interface Deadlines {
  temporalMs: number;
  queryMs: number;
}

function pastItsDeadline(r: Concrete, outcome: Outcome, deadlines: Deadlines): boolean {
  if (outcome.status !== 503 || outcome.elapsedMs === undefined) return false;
  const code = /"code":"([^"]*)"/.exec(outcome.text)?.[1];
  const deadline = r.method === 'HEAD' ? Math.min(deadlines.temporalMs, deadlines.queryMs) : code === 'temporal_unavailable' ? deadlines.temporalMs : code === 'worker_unavailable' ? deadlines.queryMs : undefined;
  return deadline !== undefined && outcome.elapsedMs >= deadline;
}

function check(r: Concrete, outcome: Outcome): Finding[] {
  const findings: Finding[] = [];
  const add = (kind: Finding['kind'], detail: string) => findings.push({ kind, request: r, outcome, detail });
  if (outcome.status <= 0) {
    // A HEAD gets that answer with a body, which the client cannot parse as a HEAD response.
    if (r.method === 'HEAD' && /HPE_/.test(outcome.error ?? '') && refusedByHttpParser(r)) add('http-layer-no-envelope', 'refused by the HTTP parser, answered with a body to a HEAD');
    else add('no-response', outcome.error ?? 'no response');
    return findings;
  }
  if (HTTP_LAYER_ANSWER.test(outcome.text)) {
    add('http-layer-no-envelope', `refused by the HTTP parser (${refusedByHttpParser(r) ? 'oversized headers or a non-ASCII URL' : 'unexpectedly'})`);
    return findings;
  }
  if (outcome.status >= 500) add('5xx', `status ${outcome.status}`);
  if (STACK_TRACE.test(outcome.text)) add('stack-trace', STACK_TRACE.exec(outcome.text)![0]);
  let code: string | undefined;
  if (outcome.status >= 400 && r.method !== 'HEAD' && (outcome.contentType.includes('json') || /^\s*[{[]/.test(outcome.text))) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(outcome.text);
    } catch {
      add('no-envelope', 'a JSON error response that does not parse');
    }
    const error = (parsed as { error?: { code?: unknown; message?: unknown; requestId?: unknown } } | undefined)?.error;
    if (parsed !== undefined) {
      if (typeof error !== 'object' || error === null || typeof error.code !== 'string' || typeof error.message !== 'string' || typeof error.requestId !== 'string') {
        add('no-envelope', 'not {error: {code, message, requestId}}');
      } else code = error.code;
    }
  }
  if (r.needsToken && !r.tokenValid) {
    // Node's HTTP parser refuses some requests before there is a request to authenticate (bytes not
    // allowed in a URL, headers over 16 KiB): those get 400/431 from the API's clientErrorHandler.
    const unparsable = (outcome.status === 400 || outcome.status === 431) && outcome.connectionClosed === true;
    const allowed = outcome.status === 401 || outcome.status === 429 || unparsable;
    if (!allowed) add('unauthenticated-not-401', `${outcome.status}${code ? ` ${code}` : ''} without a valid token`);
    else if (outcome.status === 401 && r.method !== 'HEAD' && (code !== 'unauthorized' || /"details"/.test(outcome.text))) add('unauthenticated-not-401', '401 that is not a bare unauthorized');
  }
  return findings;
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);

function describeFinding(f: Finding): string {
  const r = f.request;
  const headers = Object.fromEntries(Object.entries(r.headers).map(([name, value]) => [name, clip(value, 80)]));
  const body = r.body === undefined ? '(none)' : clip(JSON.stringify(r.body.toString('latin1')), 200);
  return [
    `#${r.index} [${f.kind}] ${f.detail}`,
    `  ${r.method} ${clip(r.path, 200)}${r.chunked ? ' (chunked)' : ''}  (${r.label}; ${r.notes.join(', ')})`,
    `  headers: ${JSON.stringify(headers)}`,
    `  body (${r.body?.length ?? 0} bytes, shown as latin1): ${body}`,
    `  → ${f.outcome.status} ${f.outcome.contentType} ${clip(f.outcome.error ?? f.outcome.text, 300)}`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------

let api: ApiHarness;
let routes: Route[];
const pools: Pools = { real: [], created: [], cursor: undefined };

/**
 * The harness's tokens (same strings and scopes) with tenants of this file's own: sessions the fuzzer
 * starts stay in the run's shared Temporal namespace, and other files list their tenants' sessions exactly.
 */
const FUZZ_TOKENS = Object.values(TOKENS).map((token) => ('tenant' in token ? { ...token, tenant: `fuzz-${token.tenant}` } : token));

beforeAll(async () => {
  api = await startApiHarness({
    env: {
      API_TOKENS: JSON.stringify(FUZZ_TOKENS),
      API_RATE_LIMIT: '10000000',
      // A decision on a parked session would otherwise hold a connection for 5 s.
      API_DECISION_WAIT: '1s',
      // Reads wait for the worker, which shares this process (and its two cores) with the fuzzer.
      API_QUERY_TIMEOUT: '10s',
      // The sessions the fuzzer starts poll the simulator slowly, so they cost the worker little.
      SESSION_TIMING: JSON.stringify({ pollInitial: '2s', pollMax: '10s', videoPollInterval: '2s', activityHeartbeatTimeout: '10s' }),
    },
  });
  routes = registeredRoutes(api.app);
  // Real sessions in several states, of several tenants, for the generated ids to hit.
  const targets: [string, TokenName][] = [
    ['Fuzz parked [[sim stuck=thinking]]', 'acme'],
    ['Fuzz review [[sim think=1s]]', 'acme'],
    ['Fuzz question [[sim ask=1 think=1s]]', 'acme'],
    ['Fuzz done [[sim review=skip think=1s generate=1s]]', 'acme'],
    ['Fuzz other tenant [[sim think=1s]]', 'initech'],
    ['Fuzz no tenant [[sim think=1s]]', 'admin'],
  ];
  for (const [prompt, token] of targets) {
    const response = await api.call<{ id: string }>('POST', '/v1/sessions', { token, body: { prompt } });
    if (response.status !== 201) throw new Error(`could not start a target session: ${response.status} ${JSON.stringify(response.body)}`);
    pools.real.push(response.body.id);
  }
  const page = await api.call<{ nextCursor: string | null }>('GET', '/v1/sessions?limit=1', { token: 'admin' });
  pools.cursor = page.body.nextCursor ?? undefined;
});

afterAll(async () => {
  await api?.close();
});

test('the routes fuzzed are the ones the app registers', async () => {
  const found = new Set(routes.map((r) => routeKey(r.method, r.path)));
  const document = (await api.call<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>('GET', '/openapi.json', { token: null })).body;
  // Every documented operation was found (so the parsing of printRoutes holds), and it is taken to need
  // a token exactly when it is documented with bearer security.
  const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({ key: routeKey(method.toUpperCase(), path.replace(/\{(\w+)\}/g, ':$1')), secured: operation.security !== undefined })),
  );
  expect(documented.length).toBeGreaterThan(0);
  expect(documented.filter((d) => !found.has(d.key))).toEqual([]);
  expect(documented.filter((d) => requiresToken(d.key.split(' ')[1]!) !== d.secured)).toEqual([]);
  // And routes the document leaves out.
  for (const hidden of ['OPTIONS /v1/webhooks/heygen', 'GET /openapi.json', 'GET /docs', 'HEAD /healthz']) expect(found).toContain(hidden);
});

test(`${REQUESTS} generated requests over HTTP: no 5xx, no stack trace, the error envelope, 401 before anything else`, async () => {
  const registered = new Set(routes.map((r) => routeKey(r.method, r.path)));
  const generationStart = performance.now();
  const specs = fc.sample(specArbitrary(routes), { seed: SEED, numRuns: REQUESTS });
  const generationMs = performance.now() - generationStart;
  // Generating blocked this process, the API's too, for seconds on a slow machine: its load monitor
  // sheds requests (503 overloaded) until it has seen the event loop free again. Sent once it has.
  await eventually(async () => (await api.call('GET', '/healthz', { token: null })).status === 200, { what: "the API's event-loop monitor to see the loop free" });
  const deadlines = { temporalMs: api.config.api.temporalTimeoutMs, queryMs: api.config.api.queryTimeoutMs };
  let pastDeadline = 0;
  const order = ONLY.length > 0 ? ONLY.filter((i) => i < specs.length) : specs.map((_, i) => i);

  const port = new URL(api.url).port;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const findings: Finding[] = [];
  const byStatus = new Map<string, number>();
  const byRoute = new Map<string, Map<string, number>>();
  const byNote = new Map<string, number>();
  let unauthenticatedOnTokenRoutes = 0;
  const bump = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);

  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < order.length) {
        const index = order[next++]!;
        const r = concretize(index, specs[index]!, pools, registered);
        const outcome = await send(agent, Number(port), r);
        if (ONLY.length > 0) console.log(describeFinding({ kind: 'replay' as Finding['kind'], request: r, outcome, detail: 'replayed' }));
        const status = outcome.status > 0 ? String(outcome.status) : 'no response';
        bump(byStatus, status);
        const routeStatuses = byRoute.get(r.label) ?? new Map<string, number>();
        byRoute.set(r.label, routeStatuses);
        bump(routeStatuses, status);
        for (const note of r.notes) bump(byNote, note);
        if (r.needsToken && !r.tokenValid) unauthenticatedOnTokenRoutes++;
        if (outcome.status === 201 && r.label === 'POST /v1/sessions') {
          const id = (JSON.parse(outcome.text) as { id?: unknown }).id;
          if (typeof id === 'string') pools.created.push(id);
        }
        if (pastItsDeadline(r, outcome, deadlines)) pastDeadline++;
        else findings.push(...check(r, outcome));
      }
    }),
  );
  const elapsedMs = performance.now() - start;
  agent.destroy();

  // The summary.
  const sortedStatuses = [...byStatus].sort(([a], [b]) => a.localeCompare(b));
  const fiveHundreds = sortedStatuses.filter(([status]) => /^5/.test(status)).reduce((sum, [, n]) => sum + n, 0);
  const routeLines = [...byRoute]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, statuses]) => {
      const total = [...statuses.values()].reduce((a, b) => a + b, 0);
      const detail = [...statuses].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}:${n}`).join(' ');
      return `  ${label.padEnd(52)} ${String(total).padStart(5)}  ${detail}`;
    });
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    // Responses the app never wrote (the HTTP parser's) are alike whatever the route.
    const answer = /"code":"([^"]*)"/.exec(f.outcome.text)?.[1] ?? clip(f.outcome.error ?? f.outcome.text, 70);
    const where = f.kind === 'no-envelope' || f.kind === 'http-layer-no-envelope' || f.kind === 'no-response' ? '' : ` | ${f.request.template}`;
    const key = `${f.kind}${where} | ${f.outcome.status} ${answer}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const summary = [
    `fuzz: seed ${SEED} (FUZZ_SEED), ${REQUESTS} requests (FUZZ_REQUESTS), concurrency ${CONCURRENCY}`,
    `elapsed: ${(elapsedMs / 1000).toFixed(1)} s sending (${Math.round((REQUESTS / elapsedMs) * 1000)} req/s) + ${(generationMs / 1000).toFixed(1)} s generating`,
    `routes registered: ${routes.length} (${routes.map((r) => routeKey(r.method, r.path)).join(', ')})`,
    `by status: ${sortedStatuses.map(([s, n]) => `${s}=${n}`).join(' ')}`,
    `5xx: ${fiveHundreds}, of them 503 past the API's deadline for Temporal or a worker (a slow machine): ${pastDeadline}; unauthenticated requests to token routes: ${unauthenticatedOnTokenRoutes}; sessions started: ${pools.created.length}`,
    `by route (requests, then status:count):`,
    ...routeLines,
    `by kind: ${[...byNote].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}=${n}`).join(' ')}`,
    `findings: ${findings.length} in ${groups.size} group(s)`,
    ...[...groups].map(([key, list]) => `  ${String(list.length).padStart(5)} × ${key} (e.g. #${list[0]!.request.index})`),
  ].join('\n');
  console.log(summary);

  if (findings.length > 0) {
    // One example of each group first, then more of them, up to SHOW.
    const shown: Finding[] = [...groups.values()].map((list) => list[0]!);
    for (const f of findings) if (shown.length < SHOW && !shown.includes(f)) shown.push(f);
    throw new Error(`${findings.length} finding(s) in ${groups.size} group(s), seed ${SEED}:\n\n${shown.slice(0, SHOW).map(describeFinding).join('\n\n')}`);
  }
}, Math.max(120_000, REQUESTS * 20));
