/**
 * Review links (issue #11, part 3): minted by a token with sessions:review, they open one session for
 * reading and deciding, record their own name on what they send, and are refused when expired,
 * tampered with, used on another session, or used for anything else.
 */
import { startApiBeside, startApiHarness, TOKENS, waitForApiPhase, type ApiHarness } from '../harness/api';
import { recordHistory } from '../harness/sessions';
import { openStream } from '../harness/streams';
import { eventually } from '../harness/wait';

let api: ApiHarness;
const LINK_ENV = { REVIEW_LINK_SECRET: 'the review link secret of this test run', API_PUBLIC_URL: 'https://vao.example.test/' };
beforeAll(async () => {
  api = await startApiHarness({ env: LINK_ENV });
});
afterAll(async () => {
  await api?.close();
});

type Link = { id: string; url: string; name: string; expiresAt: string };
const parkedSession = async (token: 'acme' | 'globex' = 'acme') => {
  // A revision lasts until the test ends it (finishPhase): an early decision meets it still under way.
  const { status, body } = await api.call<{ id: string }>('POST', '/v1/sessions', { token, body: { prompt: 'Review me [[sim think=1s revise=1000h]]' } });
  expect(status).toBe(201);
  await waitForApiPhase(api, body.id, 'reviewing', token);
  return body.id;
};
const mint = (id: string, body?: unknown, token: 'acme' | 'acmeReader' | 'globex' | string = 'acme') => api.call<Link>('POST', `/v1/sessions/${id}/review-links`, { token, body });
const credentialOf = (link: Link) => link.url.slice(link.url.indexOf('#t=') + 3);

test('a link opens its session, follows it and decides there, as link:<name>; nothing else', async () => {
  const id = await parkedSession();
  const other = await parkedSession();
  const minted = await mint(id, { name: 'Dana Reviewer', expiresIn: '2h' });
  expect(minted.status).toBe(201);
  expect(minted.body.url).toMatch(new RegExp(`^https://vao\\.example\\.test/review/${id}#t=rl1\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
  expect(minted.body.name).toBe('link:Dana Reviewer');
  expect(Math.abs(Date.parse(minted.body.expiresAt) - Date.now() - 2 * 3_600_000)).toBeLessThan(60_000);
  const link = credentialOf(minted.body);

  const seen = await api.call<{ id: string; phase: string; prompt: string }>('GET', `/v1/sessions/${id}`, { token: link });
  expect(seen.status).toBe(200);
  expect(seen.body).toMatchObject({ id, phase: 'reviewing', prompt: 'Review me [[sim think=1s revise=1000h]]' });
  // Everything else is refused: other sessions, lists, starts, stops, capacity, more links.
  const refusals = {
    otherSession: await api.call<{ error: { message: string } }>('GET', `/v1/sessions/${other}`, { token: link }),
    otherApprove: await api.call('POST', `/v1/sessions/${other}/approve`, { token: link, body: {} }),
    list: await api.call('GET', '/v1/sessions', { token: link }),
    create: await api.call('POST', '/v1/sessions', { token: link, body: { prompt: 'x' } }),
    stop: await api.call('POST', `/v1/sessions/${id}/stop`, { token: link }),
    capacity: await api.call('GET', '/v1/capacity', { token: link }),
    mint: await mint(id, {}, link),
  };
  console.log(`refused with the link: ${JSON.stringify(Object.fromEntries(Object.entries(refusals).map(([what, r]) => [what, r.status])))}`);
  for (const response of Object.values(refusals)) expect(response.status).toBe(403);
  expect(refusals.otherSession.body.error.message).toBe('This review link is for another session.');

  const changes = await api.call<{ actions: { kind: string; by: string; outcome: string }[] }>('POST', `/v1/sessions/${id}/messages`, { token: link, body: { message: 'Warmer colours' } });
  expect(changes.status).toBe(200);
  expect(changes.body.actions.at(-1)).toMatchObject({ kind: 'message', by: 'link:Dana Reviewer', outcome: 'applied' });
  // The same service code as any caller: a decision outside a checkpoint is a 409 (an approval needs no body).
  const early = await api.call<{ error: { code: string } }>('POST', `/v1/sessions/${id}/approve`, { token: link });
  expect([early.status, early.body.error.code]).toEqual([409, 'not_awaiting_input']);
  await api.sessions.sim.finishPhase((await waitForApiPhase(api, id, 'thinking')).heygenSessionId as string);
  const revised = await waitForApiPhase(api, id, 'reviewing');
  expect(revised).toMatchObject({ revisions: 2, earlierStoryboards: [expect.objectContaining({ revision: 1, resources: expect.any(Array) })] });
  const approved = await api.call<{ actions: { kind: string; by: string }[] }>('POST', `/v1/sessions/${id}/approve`, { token: link, body: { message: 'Lovely' } });
  expect(approved.status).toBe(200);
  expect(approved.body.actions.at(-1)).toMatchObject({ kind: 'approve', by: 'link:Dana Reviewer' });
});

test('expired, tampered and forged links are refused with a reason; minting needs sessions:review on a visible session', async () => {
  const id = await parkedSession();
  const minted = await mint(id, { expiresIn: '1s' });
  const short = credentialOf(minted.body);
  // Refused once its second has passed, whenever that is on this machine (a loaded one may take it
  // before a first read; that a link opens its session is the test above).
  const expired = await eventually(async () => {
    const response = await api.call<{ error: { message: string } }>('GET', `/v1/sessions/${id}`, { token: short });
    return response.status === 401 ? response : undefined;
  }, { what: 'the link to expire' });
  expect(expired.body.error.message).toBe('This review link has expired; ask for a new one.');

  const plain = await mint(id);
  expect(plain.status).toBe(201);
  const good = credentialOf(plain.body);
  const [prefix, payload, signature] = good.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const variants = {
    signatureChanged: `${prefix}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`,
    longerExpiry: `${prefix}.${Buffer.from(JSON.stringify({ ...claims, e: (claims.e as number) + 86_400 })).toString('base64url')}.${signature}`,
    anotherName: `${prefix}.${Buffer.from(JSON.stringify({ ...claims, n: 'ops-admin' })).toString('base64url')}.${signature}`,
    truncated: good.slice(0, -5),
  };
  for (const [what, token] of Object.entries(variants)) {
    const response = await api.call<{ error: { message: string } }>('GET', `/v1/sessions/${id}`, { token });
    expect([what, response.status, response.body.error.message]).toEqual([what, 401, 'This review link is not valid (it may have been changed or revoked).']);
  }

  expect((await mint(id, {}, 'acmeReader')).status).toBe(403);
  expect((await mint(id, {}, 'globex')).status).toBe(404);
  expect((await mint('session-nobody')).status).toBe(404);
  expect((await mint(id, {}, null as unknown as string)).status).toBe(401);
  const bad = await mint(id, { expiresIn: '31d', name: '<script>' });
  expect(bad.status).toBe(400);
  expect(JSON.stringify(bad.body)).toMatch(/expiresIn/);
  expect((await mint(id, { expiresIn: '10' })).status).toBe(400);
});

test("a link dies with its minter's rights: the token rotated, moved to another tenant or cut in scope revokes it (issue 22, defect 3)", async () => {
  const id = await parkedSession();
  const link = credentialOf((await mint(id, { name: 'Later' })).body);
  // The API restarted with the minting token (acme-tool) changed, one way at a time and all at once.
  const changes: Record<string, Partial<(typeof TOKENS)['acme']>> = {
    unchanged: {},
    rotated: { token: 'tok_acme_tool_rotated_9a8b7c6d5e4f' },
    movedTenant: { tenant: 'elsewhere' },
    cutToRead: { scopes: ['sessions:read'] },
    allThree: { token: 'tok_acme_tool_rotated_9a8b7c6d5e4f', tenant: 'elsewhere', scopes: ['sessions:read'] },
  };
  const seen: Record<string, [number, number]> = {};
  const refusals = new Set<string | undefined>();
  for (const [what, change] of Object.entries(changes)) {
    const tokens = Object.values({ ...TOKENS, acme: { ...TOKENS.acme, ...change } });
    const restarted = await startApiBeside(api, { ...LINK_ENV, API_TOKENS: JSON.stringify(tokens) });
    try {
      const read = await restarted.call<{ error?: { message: string } }>('GET', `/v1/sessions/${id}`, { token: link });
      // Unchanged: an empty message is refused (400) once the credential has passed, so nothing reaches the
      // session; changed: a real change request, as the tester sent.
      const message = what === 'unchanged' ? '' : 'Warmer colours';
      const decide = await restarted.call('POST', `/v1/sessions/${id}/messages`, { token: link, body: { message } });
      seen[what] = [read.status, decide.status];
      if (what !== 'unchanged') refusals.add(read.body.error?.message);
    } finally {
      await restarted.close();
    }
  }
  console.log(`link after its minter changed, [GET, POST messages]: ${JSON.stringify(seen)}`);
  expect(seen).toEqual({ unchanged: [200, 400], rotated: [401, 401], movedTenant: [401, 401], cutToRead: [401, 401], allThree: [401, 401] });
  expect([...refusals]).toEqual(['This review link was revoked: the token that made it has changed or no longer exists.']);
  expect((await api.call<{ actions: unknown[] }>('GET', `/v1/sessions/${id}`)).body.actions).toEqual([]);
});

test('a link revoked by its id is refused at once by every API instance, a new stream included; other links go on (issue 22, defect 3)', async () => {
  const id = await parkedSession();
  const doomed = (await mint(id, { name: 'Doomed' })).body;
  const kept = (await mint(id, { name: 'Kept' })).body;
  expect(doomed.id).toMatch(/^rl_[A-Za-z0-9_-]{22}$/);
  // Another instance, which has read the session with the link already (its caches are warm).
  const beside = await startApiBeside(api, LINK_ENV);
  try {
    expect((await beside.call('GET', `/v1/sessions/${id}`, { token: credentialOf(doomed) })).status).toBe(200);
    // A stream already open with the link: it ends at its next read, with a last event saying why.
    const open = await openStream(`${api.url}/v1/sessions/${id}/events`, credentialOf(doomed));
    expect(open.status).toBe(200);
    const revoked = await api.call('DELETE', `/v1/sessions/${id}/review-links/${doomed.id}`);
    console.log(`revoke: ${revoked.status} ${JSON.stringify(revoked.body)}`);
    expect([revoked.status, revoked.body]).toEqual([200, { sessionId: id, linkId: doomed.id, status: 'revoked' }]);
    const after = {
      read: await beside.call<{ error: { message: string } }>('GET', `/v1/sessions/${id}`, { token: credentialOf(doomed) }),
      decide: await beside.call<{ error: { message: string } }>('POST', `/v1/sessions/${id}/messages`, { token: credentialOf(doomed), body: { message: 'Warmer colours' } }),
      readHere: await api.call<{ error: { message: string } }>('GET', `/v1/sessions/${id}`, { token: credentialOf(doomed) }),
      stream: await fetch(`${beside.url}/v1/sessions/${id}/events`, { headers: { authorization: `Bearer ${credentialOf(doomed)}` } }),
      kept: await beside.call<{ error: { message: string } }>('GET', `/v1/sessions/${id}`, { token: credentialOf(kept) }),
    };
    await after.stream.body?.cancel();
    console.log(`after the revocation: ${JSON.stringify(Object.fromEntries(Object.entries(after).map(([what, r]) => [what, r.status])))}`);
    expect([after.read.status, after.decide.status, after.readHere.status, after.stream.status, after.kept.status]).toEqual([401, 401, 401, 401, 200]);
    expect(after.read.body.error.message).toBe('This review link was revoked; ask for a new one.');
    try {
      await eventually(() => open.isEnded(), { what: 'the open stream to end after the revocation' });
    } finally {
      console.log(`open stream after the revocation: ${JSON.stringify(open.events.map((e) => e.event))}; ended: ${open.isEnded()}`);
      open.stop();
    }
    expect(open.events.at(-1)).toMatchObject({ event: 'revoked', data: { code: 'unauthorized', message: 'This review link was revoked; ask for a new one.' } });
    expect((await api.call<{ actions: unknown[] }>('GET', `/v1/sessions/${id}`)).body.actions).toEqual([]);
  } finally {
    await beside.close();
  }
  // Idempotent; refused to a link, another tenant, a reader, and for an id that is none.
  expect((await api.call('DELETE', `/v1/sessions/${id}/review-links/${doomed.id}`)).status).toBe(200);
  expect((await api.call('DELETE', `/v1/sessions/${id}/review-links/${kept.id}`, { token: credentialOf(kept) })).status).toBe(403);
  expect((await api.call('DELETE', `/v1/sessions/${id}/review-links/${kept.id}`, { token: 'globex' })).status).toBe(404);
  expect((await api.call('DELETE', `/v1/sessions/${id}/review-links/${kept.id}`, { token: 'acmeReader' })).status).toBe(403);
  expect((await api.call('DELETE', `/v1/sessions/${id}/review-links/not-a-link`)).status).toBe(400);
  expect((await api.call('GET', `/v1/sessions/${id}`, { token: credentialOf(kept) })).status).toBe(200);
  // The shape with a revocation in its history, for the replay test.
  await recordHistory(api.sessions.client.workflow.getHandle(id), 'link-revoked');
});

describe('link rate limits (issue 22, defect 4): one budget per minting token and session, API_RATE_LIMIT (600) a minute', () => {
  /**
   * `n` requests with a link, 8 at a time; the statuses counted. GET /v1/sessions is refused to a link
   * (403) after the rate limit has counted it, so the count costs no Temporal read.
   */
  const hammer = async (credential: string, n: number) => {
    const statuses: Record<number, number> = {};
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < n) {
          next++;
          const { status } = await api.call('GET', '/v1/sessions', { token: credential });
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      }),
    );
    return statuses;
  };

  test("one tenant's 610 uses of a link named Dana23041 leave another tenant's link of that name alone", async () => {
    const ours = credentialOf((await mint(await parkedSession('acme'), { name: 'Dana23041' })).body);
    const theirSession = await parkedSession('globex');
    const theirs = credentialOf((await mint(theirSession, { name: 'Dana23041' }, 'globex')).body);
    const flood = await hammer(ours, 610);
    const theirRead = await api.call('GET', `/v1/sessions/${theirSession}`, { token: theirs });
    console.log(`610 uses of acme's link: ${JSON.stringify(flood)}; globex's link of the same name then: ${theirRead.status}`);
    expect(flood[429]).toBeGreaterThanOrEqual(10);
    expect(theirRead.status).toBe(200);
  });

  test("3 links of different names on one session share their minter's budget: 1,500 requests, at most 600 pass", async () => {
    const id = await parkedSession();
    const links = await Promise.all(['Ann', 'Ben', 'Cy'].map(async (name) => credentialOf((await mint(id, { name })).body)));
    const results = await Promise.all(links.map((link) => hammer(link, 500)));
    const passed = results.reduce((sum, r) => sum + (r[403] ?? 0), 0);
    const limited = results.reduce((sum, r) => sum + (r[429] ?? 0), 0);
    console.log(`1,500 requests with 3 links of one minter on one session: ${passed} passed the limit, ${limited} answered 429`);
    expect(passed).toBeLessThanOrEqual(600);
    expect(limited).toBeGreaterThanOrEqual(900);
  });
});
