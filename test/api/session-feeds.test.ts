/**
 * The live streams' shared reader and re-authorisation, without Temporal (issue #22, defects 5 and 6):
 * one read per interval per session however many watch it, none once the last has gone; a stream whose
 * token is removed or rotated ends with `revoked`, through the same authorize() a request goes through.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authorize } from '../../src/api/auth';
import { ApiError } from '../../src/api/errors';
import { SessionFeeds, type FeedUpdate } from '../../src/api/session-feeds';
import { streamSessionEvents, type Refusal } from '../../src/api/session-events';
import { TokenVerifier, type ApiToken } from '../../src/api/tokens';
import type { SessionState } from '../../src/contract/session';
import { openStream } from '../harness/streams';
import { eventually } from '../harness/wait';

const state = (progress: number) =>
  ({
    id: 'session-x',
    phase: 'generating',
    phaseSince: 't1',
    progress,
    messages: [],
    review: null,
    video: null,
    queue: null,
    error: null,
    phaseHistory: [{ seq: 1, phase: 'generating', at: 't1' }],
  }) as unknown as SessionState;

describe('SessionFeeds', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('five watchers of one session: one read per interval, each read to all five; none after the last leaves', async () => {
    const feeds = new SessionFeeds(100);
    let reads = 0;
    const read = async () => state(++reads);
    const seen: FeedUpdate[][] = Array.from({ length: 5 }, () => []);
    const stops = seen.map((updates) => feeds.watch('session-x', read, (update) => updates.push(update)));
    await jest.advanceTimersByTimeAsync(1_000);
    console.log(`10 intervals, 5 watchers: ${reads} reads, updates per watcher ${seen.map((u) => u.length).join(',')}`);
    expect(reads).toBe(10);
    for (const updates of seen) expect(updates.map((u) => (u.kind === 'state' ? u.state.progress : u.kind))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Another session has a reader of its own.
    let otherReads = 0;
    const stopOther = feeds.watch('session-y', async () => state(++otherReads), () => undefined);
    expect(feeds.stats.sessions).toBe(2);
    for (const stop of stops) stop();
    stopOther();
    expect(feeds.stats.sessions).toBe(0);
    await jest.advanceTimersByTimeAsync(1_000);
    expect([reads, otherReads]).toEqual([10, 0]);
  });

  test('a watcher that joins during a read gets the next one, not the one begun before it; gone ends every watcher', async () => {
    const feeds = new SessionFeeds(100);
    const pending: { resolve: (value: SessionState | undefined) => void; reject: (error: Error) => void }[] = [];
    const read = () => new Promise<SessionState | undefined>((resolve, reject) => pending.push({ resolve, reject }));
    const early: FeedUpdate[] = [];
    const late: FeedUpdate[] = [];
    feeds.watch('session-x', read, (update) => early.push(update));
    await jest.advanceTimersByTimeAsync(100);
    expect(pending).toHaveLength(1);
    feeds.watch('session-x', read, (update) => late.push(update));
    pending[0]!.resolve(state(1));
    await jest.advanceTimersByTimeAsync(0);
    expect([early.length, late.length]).toEqual([1, 0]);
    await jest.advanceTimersByTimeAsync(100);
    expect(pending).toHaveLength(2);
    // A session whose history is gone (past retention): every watcher hears it once, and the reader stops.
    pending[1]!.reject(new ApiError('not_found', 'No such session.'));
    await jest.advanceTimersByTimeAsync(1_000);
    expect([early.at(-1)?.kind, late.at(-1)?.kind, late.length]).toEqual(['gone', 'gone', 1]);
    expect(pending).toHaveLength(2);
    expect(feeds.stats.sessions).toBe(0);
  });
});

describe('a stream is re-authorised before each read is passed on', () => {
  const tokens: ApiToken[] = [
    { name: 'watcher', token: 'tok_watcher_first_value_0123456789', scopes: ['sessions:read'], tenant: 'acme' },
    { name: 'other', token: 'tok_other_value_abcdef0123456789', scopes: ['sessions:read'], tenant: 'acme' },
  ];
  let server: Server;
  let url: string;
  /** What the API was started with; a test replaces it as a restart with other tokens would. */
  let verifier = new TokenVerifier(tokens);
  const feeds = new SessionFeeds(20);
  let progress = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const credential = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
      const refusalNow = (): Refusal | undefined => {
        try {
          authorize(verifier, credential, 'sessions:read');
          return undefined;
        } catch (error) {
          return { code: (error as ApiError).code, message: (error as ApiError).message };
        }
      };
      void streamSessionEvents(response, { id: 'session-x', first: state(0), next: async () => state(progress), feeds, reauthorise: refusalNow });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    feeds.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test.each([
    ['removed', [tokens[1]!]],
    ['rotated to a new value', [{ ...tokens[0]!, token: 'tok_watcher_second_value_98765432' }, tokens[1]!]],
  ])('a token %s: its stream ends with revoked; another token on the same session reads on', async (_what, after) => {
    verifier = new TokenVerifier(tokens);
    const mine = await openStream(url, tokens[0]!.token);
    const theirs = await openStream(url, tokens[1]!.token);
    progress += 1;
    await eventually(() => [mine, theirs].every((s) => s.events.some((e) => e.event === 'progress' && e.data.progress === progress)), { what: 'both streams to follow' });
    verifier = new TokenVerifier(after as ApiToken[]);
    await eventually(() => mine.isEnded(), { what: 'the stream of the changed token to end' });
    progress += 1;
    await eventually(() => theirs.events.some((e) => e.event === 'progress' && e.data.progress === progress), { what: 'the other stream to follow on' });
    console.log(`token ${_what}: its stream's last events ${JSON.stringify(mine.events.slice(-2).map((e) => e.event))}; the other stream open: ${!theirs.isEnded()}`);
    expect(mine.events.at(-1)).toMatchObject({ event: 'revoked', data: { code: 'unauthorized', message: 'A valid bearer token is required (Authorization: Bearer <token>).' } });
    expect(mine.events.filter((e) => e.event === 'progress' && e.data.progress === progress)).toEqual([]);
    theirs.stop();
    await theirs.ended;
  });
});
