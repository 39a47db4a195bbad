/**
 * Issue #9, the concurrency cap: more sessions than HeyGen's per-key job cap, started together. Before
 * the governor (8a6d53b), sessions raced HeyGen's cap: 100 creates refused with 429 "Concurrent job
 * limit" and 5 of the 25 sessions failed. Now the account's governor hands out slots: every session
 * completes, HeyGen never sees more jobs than the cap, slots go first come first served, and a small
 * tenant is not starved behind a big one.
 */
import { governorStateQuery } from '../../src/contract/governor';
import { VideoAgentStatus } from '../../src/contract/search-attributes';
import type { SessionHandle } from '../../src/temporal/sessions';
import type { SessionState } from '../../src/contract/session';
import { startSessionHarness, type SessionHarness } from '../harness/sessions';
import { eventually } from '../harness/wait';
import { governorIdOf, governorLog, inversions, report } from './support';

/** The session's state once the governor has its request (holding, queued, or already done with it). */
async function enqueued(h: SessionHarness, handle: SessionHandle): Promise<SessionState> {
  return eventually(
    async () => {
      const state = await h.state(handle);
      return state.heygen.slot !== 'none' ? state : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 50, what: `${handle.workflowId} to reach the governor` },
  );
}

/** Waits until the session is queued with a position, and checks what operators see of that. */
async function expectQueuedWithPosition(h: SessionHarness, handle: SessionHandle): Promise<SessionState> {
  const queued = await eventually(
    async () => {
      const state = await h.state(handle);
      return state.phase === 'queued' && typeof state.queue?.position === 'number' ? state : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: `${handle.workflowId} to be queued with a position` },
  );
  expect(queued.heygen.slot).toBe('waiting');
  expect(queued.queue!.queued).toBeGreaterThanOrEqual(queued.queue!.position!);
  const status = await eventually(
    async () => {
      const value = (await handle.describe()).typedSearchAttributes.get(VideoAgentStatus);
      return value === 'queued' ? value : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `VideoAgentStatus of ${handle.workflowId} to read queued` },
  );
  expect(status).toBe('queued');
  return queued;
}

test('the cap: 25 sessions against a cap of 10 all complete, at most 10 jobs at HeyGen, slots FIFO', async () => {
  const CAP = 10;
  const N = 25;
  const h = await startSessionHarness({
    simulatorEnv: { SIMULATOR_CONCURRENCY_LIMIT: String(CAP) },
    env: { HEYGEN_MAX_CONCURRENT: String(CAP) },
  });
  try {
    const started = Date.now();
    const handles: SessionHandle[] = [];
    for (let i = 0; i < N; i++) {
      // ~6 s of real time per session at 1000x: each holds its slot a while.
      const handle = await h.start({ prompt: `Cap ${i + 1} [[sim think=3000s generate=3000s]]`, autoApprove: true });
      // The next starts once the governor has this one, so the arrival order is the start order.
      await enqueued(h, handle);
      handles.push(handle);
    }
    const ids = handles.map((handle) => handle.workflowId);

    // The last one waits behind 14 others for a while: queued, with its place, and searchable as such.
    const last = await expectQueuedWithPosition(h, handles[N - 1]!);

    const results = await Promise.all(handles.map((handle) => handle.result()));
    const elapsed = Date.now() - started;
    const completed = results.filter((result) => result.phase === 'completed').length;

    const stats = await h.sim.stats();
    const created = stats.sessions.map((session) => session.callback_id ?? '?');
    const capRefusals = stats.responses['create_session 429'] ?? 0;
    const governorId = governorIdOf(h);
    const log = await governorLog(h.client, governorId);
    const governor = await h.client.workflow.getHandle(governorId).query(governorStateQuery);
    const createdOrder = created.map((id) => ids.indexOf(id) + 1);
    const createdInversions = inversions(ids, created);

    report(
      `cap: ${N} sessions, ${completed} completed in ${Math.round(elapsed / 1000)} s, max_active_jobs ${stats.max_active_jobs} (cap ${CAP}), ` +
        `429 Concurrent job limit: ${capRefusals}, last one queued at position ${last.queue!.position} of ${last.queue!.queued}, ` +
        `grant order ${log.grants.map((id) => ids.indexOf(id) + 1).join(',')}, HeyGen create order ${createdOrder.join(',')} ` +
        `(${createdInversions.length} pairs swapped), governor granted ${governor.granted} released ${governor.released} reclaimed ${governor.reclaimed}`,
    );

    expect(results.map((result) => [result.id, result.phase, result.error?.type ?? null])).toEqual(ids.map((id) => [id, 'completed', null]));
    expect(stats.max_active_jobs).toBeLessThanOrEqual(CAP);
    // Each workflow made exactly one HeyGen session.
    expect([...created].sort()).toEqual([...ids].sort());
    // FIFO: the governor had them in start order (each was started once the previous one had asked), and
    // granted slots in exactly that order.
    expect(log.arrivals).toEqual(ids);
    expect(log.grants).toEqual(ids);
    // Creates of slots granted together race one another, but no session overtakes one granted a whole cap earlier.
    for (const [earlier, later] of createdInversions) expect(ids.indexOf(later) - ids.indexOf(earlier)).toBeLessThan(CAP);
    // Nothing leaked: every slot came back, none had to be reclaimed.
    expect(governor).toMatchObject({ limit: CAP, holders: [], waiting: [], granted: N, released: N, reclaimed: 0 });
  } finally {
    await h.close();
  }
});

test('fairness: one session of tenant B gets a slot within the next 2 grants, ahead of 30 of tenant A', async () => {
  const CAP = 3;
  const A = 30;
  const h = await startSessionHarness({
    simulatorEnv: { SIMULATOR_CONCURRENCY_LIMIT: String(CAP) },
    env: { HEYGEN_MAX_CONCURRENT: String(CAP) },
  });
  try {
    const governor = () => h.client.workflow.getHandle(governorIdOf(h)).query(governorStateQuery);
    const started = Date.now();
    const aHandles: SessionHandle[] = [];
    for (let i = 0; i < A; i++) {
      // ~11 s per session: the first three still hold their slots when B arrives a few seconds later.
      aHandles.push(await h.start({ prompt: `Tenant A ${i + 1} [[sim think=10000s generate=1000s]]`, autoApprove: true, tenant: 'tenant-a' }));
    }
    // All of A at the governor, and its grants done (it may have the requests of A before it has granted
    // the first slots: it grants again once its slotGranted signals are delivered).
    const before = await eventually(
      async () => {
        const state = await governor();
        return state.holders.length === CAP && state.waiting.length === A - CAP ? state : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `the governor to have all ${A} of tenant A, ${CAP} holding` },
    );
    const grantedBeforeB = before.granted;

    const b = await h.start({ prompt: 'Tenant B [[sim think=1000s generate=1000s]]', autoApprove: true, tenant: 'tenant-b' });
    const bQueued = await expectQueuedWithPosition(h, b);
    const bWaiting = (await governor()).waiting.find((request) => request.sessionId === b.workflowId);

    const results = await Promise.all([...aHandles, b].map((handle) => handle.result()));
    const elapsed = Date.now() - started;
    const completed = results.filter((result) => result.phase === 'completed').length;

    const log = await governorLog(h.client, governorIdOf(h));
    const stats = await h.sim.stats();
    const created = stats.sessions.map((session) => session.callback_id ?? '?');
    const bGrant = log.grants.indexOf(b.workflowId) + 1;
    const bCreated = created.indexOf(b.workflowId) + 1;
    const aGrantedAfterB = log.grants.slice(bGrant).length;
    const aCreatedAfterB = created.slice(bCreated).filter((id) => aHandles.some((handle) => handle.workflowId === id)).length;

    report(
      `fairness: ${A} of tenant A then 1 of tenant B, cap ${CAP}: ${completed}/${A + 1} completed in ${Math.round(elapsed / 1000)} s; ` +
        `when B arrived ${grantedBeforeB} slots had been granted; B queued at position ${bQueued.queue!.position} of ${bQueued.queue!.queued}, ` +
        `granted ${bGrant}th (before ${aGrantedAfterB} of tenant A's), created ${bCreated}th at HeyGen (before ${aCreatedAfterB} of tenant A's); ` +
        `max_active_jobs ${stats.max_active_jobs}`,
    );

    // The setup: B arrived while the first three of A held the slots and the other 27 waited.
    expect(grantedBeforeB).toBe(CAP);
    expect(bQueued.queue!.position).toBeLessThanOrEqual(2);
    expect(bWaiting?.position ?? 1).toBeLessThanOrEqual(2);
    // Within the next 2 grants after B arrived.
    expect(bGrant).toBeGreaterThan(0);
    expect(bGrant).toBeLessThanOrEqual(grantedBeforeB + 2);
    expect(aGrantedAfterB).toBeGreaterThanOrEqual(26);
    // At HeyGen too, give or take the creates of slots granted in the same batch as B's.
    expect(aCreatedAfterB).toBeGreaterThanOrEqual(aGrantedAfterB - (CAP - 1));
    // Within tenant A, first come first served by session start: the first slots went to whichever asked
    // first (they were free), every later one to the earliest started of those waiting (all of A by then).
    const aGrants = log.grants.filter((id) => id !== b.workflowId);
    const firstServed = aGrants.slice(0, CAP);
    expect(aGrants.slice(CAP)).toEqual(aHandles.map((handle) => handle.workflowId).filter((id) => !firstServed.includes(id)));
    expect(results.map((result) => result.phase)).toEqual(Array(A + 1).fill('completed'));
    expect(stats.max_active_jobs).toBeLessThanOrEqual(CAP);
  } finally {
    await h.close();
  }
});
