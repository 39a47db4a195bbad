/**
 * Decisions that race: a person's approval arriving while an automatic one (autoApprove, re-approval)
 * is being sent to HeyGen is settled explicitly and the API answers with that outcome, never a 202 for
 * something the workflow refused. Plus the one request-id limit, and the capacity view reviewers read.
 */
import type { SessionState } from '../../src/contract/session';
import { REQUEST_ID_MAX } from '../../src/contract/session';
import { startApiHarness, waitForApiPhase, type ApiHarness } from '../harness/api';
import { eventually } from '../harness/wait';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApiHarness({ env: { API_RATE_LIMIT: '1000000' } });
});
afterAll(async () => {
  await api?.close();
});

async function create(body: Record<string, unknown>): Promise<string> {
  const response = await api.call<{ id: string }>('POST', '/v1/sessions', { body });
  expect(response.status).toBe(201);
  return response.body.id;
}

/** Waits until an automatic decision (by `system`) is on its way to HeyGen. */
function systemDecisionInFlight(id: string, kind: 'approve' | 'reapprove'): Promise<SessionState> {
  return eventually(
    async () => {
      const { body } = await api.call<SessionState>('GET', `/v1/sessions/${id}`);
      return body.actions?.some((a) => a.kind === kind && a.by === 'system' && a.outcome === 'pending') ? body : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 20, what: `a ${kind} by the system in flight on ${id}` },
  );
}

/** One try: returns the HTTP status the person's approval got and the final actions. */
async function race(kind: 'approve' | 'reapprove', attempt: number) {
  const id =
    kind === 'approve'
      ? await create({ prompt: `Race ${attempt} [[sim proceed=text think=50s generate=50s]]`, autoApprove: true })
      : await create({ prompt: `Race ${attempt} [[sim proceed=text think=50s generate=50s]]` });
  if (kind === 'reapprove') {
    await waitForApiPhase(api, id, 'reviewing');
    // Not an approval to HeyGen's reading: it answers with another storyboard, which we approve again.
    const first = await api.call('POST', `/v1/sessions/${id}/approve`, { body: { message: 'Ship it' }, headers: { 'idempotency-key': `first-${attempt}` } });
    expect(first.status).toBe(200);
  }
  await systemDecisionInFlight(id, kind);
  const person = await api.call<{ error?: { code?: string; details?: { reason?: string } } }>('POST', `/v1/sessions/${id}/approve`, {
    body: {},
    headers: { 'idempotency-key': `person-${kind}-${attempt}` },
  });
  const final = await waitForApiPhase(api, id, ['completed', 'failed']);
  const actions = final.actions as SessionState['actions'];
  const mine = actions.find((a) => a.requestId === `person-${kind}-${attempt}`);
  return { id, status: person.status, code: person.body.error?.code, reason: person.body.error?.details?.reason, mine, pending: actions.filter((a) => a.outcome === 'pending').length };
}

test('a person approving while an automatic decision is sent: settled, never pending, never 202 (8 tries)', async () => {
  // Every HeyGen call takes a while: the automatic decision is in flight long enough to race it.
  await api.sessions.sim.configure({ latencyMs: 700 });
  try {
    const tries = await Promise.all([
      ...[1, 2, 3, 4].map((attempt) => race('approve', attempt)),
      ...[1, 2, 3, 4].map((attempt) => race('reapprove', attempt)),
    ]);
    const statuses = tries.map((t) => t.status);
    console.log(`decision races: HTTP ${statuses.join(', ')}; outcomes ${tries.map((t) => t.mine?.outcome).join(', ')}; pending left ${tries.reduce((n, t) => n + t.pending, 0)}`);
    for (const t of tries) {
      expect(t.pending).toBe(0);
      expect(t.status).toBe(409);
      expect(t.code).toBe('not_awaiting_input');
      expect(t.mine).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('superseded') });
      expect(t.reason).toContain('superseded');
    }
    const stats = await api.sessions.sim.stats();
    for (const t of tries) {
      const heygen = stats.sessions.find((s) => s.callback_id === t.id)!;
      expect(heygen.messages.filter((m) => m.message.startsWith('Approved')).length).toBe(1);
    }
  } finally {
    await api.sessions.sim.configure({ latencyMs: 0 });
  }
});

test(`request ids: one limit (${REQUEST_ID_MAX}) for the API header and the signal`, async () => {
  const id = await create({ prompt: 'Limits [[sim think=50s]]' });
  await waitForApiPhase(api, id, 'reviewing');
  const tooLong = await api.call('POST', `/v1/sessions/${id}/approve`, { body: {}, headers: { 'idempotency-key': 'k'.repeat(REQUEST_ID_MAX + 1) } });
  expect(tooLong.status).toBe(400);
  expect(JSON.stringify(tooLong.body)).toContain(`1-${REQUEST_ID_MAX}`);
  const longest = await api.call<SessionState>('POST', `/v1/sessions/${id}/approve`, { body: {}, headers: { 'idempotency-key': 'k'.repeat(REQUEST_ID_MAX) } });
  expect(longest.status).toBe(200);
  expect(longest.body.actions.at(-1)).toMatchObject({ requestId: 'k'.repeat(REQUEST_ID_MAX), outcome: 'applied' });
});

test('capacity: which sessions hold the slots, parked ones included, per tenant', async () => {
  const id = await create({ prompt: 'Parked [[sim think=50s]]' });
  await waitForApiPhase(api, id, 'reviewing');
  const mine = await api.call<{ accounts: { limit: number; inUse: number; parkedHolders: number; holders: { id: string; phase: string }[]; otherTenants: { holders: number } }[] }>(
    'GET',
    '/v1/capacity',
  );
  expect(mine.status).toBe(200);
  expect(mine.body.accounts).toHaveLength(1);
  const [account] = mine.body.accounts;
  expect(account!.limit).toBe(1000);
  expect(account!.holders).toContainEqual(expect.objectContaining({ id, phase: 'reviewing' }));
  expect(account!.parkedHolders).toBeGreaterThanOrEqual(1);
  const other = await api.call<typeof mine.body>('GET', '/v1/capacity', { token: 'initech' });
  expect(other.body.accounts[0]!.holders.find((h) => h.id === id)).toBeUndefined();
  expect(other.body.accounts[0]!.otherTenants.holders).toBeGreaterThanOrEqual(1);
  expect((await api.call('GET', '/v1/capacity', { token: null })).status).toBe(401);
});
