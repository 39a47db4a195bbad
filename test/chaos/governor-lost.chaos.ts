/**
 * Issue #22, defect 11: the governor terminated by hand while sessions hold slots and others wait. Before
 * the fix a fresh governor started with no holders and no queue: it granted at once (14 jobs at HeyGen
 * against a cap of 10), and the sessions that had queued at the old one waited until `maxQueued` (24 h).
 * Now a fresh governor rebuilds its holders and queue from the sessions themselves, and a session whose
 * governor vanished asks again: HeyGen never sees more than the cap, and the queue drains as slots free.
 */
import { governorStateQuery, type GovernorState } from '../../src/contract/governor';
import { approveSignal, type SessionState } from '../../src/contract/session';
import type { SessionHandle } from '../../src/temporal/sessions';
import { recordHistory, startSessionHarness, type SessionHarness } from '../harness/sessions';
import { eventually } from '../harness/wait';
import { governorIdOf, report } from './support';

/** How long the queue may take to drain once slots free (generous: the sessions run ~2 s each). */
const DRAIN_MS = 120_000;

async function governorState(h: SessionHarness): Promise<GovernorState> {
  return h.client.workflow.getHandle(governorIdOf(h)).query(governorStateQuery);
}

/** Starts `count` sessions that park at review and so hold their slots until approved. */
async function startHolders(h: SessionHarness, count: number): Promise<SessionHandle[]> {
  const handles: SessionHandle[] = [];
  for (let i = 0; i < count; i++) handles.push(await h.start({ prompt: `Holder ${i + 1} [[sim think=1s generate=2000s]]` }));
  await Promise.all(handles.map((handle) => h.waitForPhase(handle, 'reviewing', 60_000)));
  return handles;
}

/** Starts `count` sessions that go straight through once they have a slot. */
async function startRunners(h: SessionHarness, count: number, label: string): Promise<SessionHandle[]> {
  const handles: SessionHandle[] = [];
  for (let i = 0; i < count; i++) handles.push(await h.start({ prompt: `${label} ${i + 1} [[sim think=1s generate=2000s]]`, autoApprove: true }));
  return handles;
}

/** The phases of these sessions, counted ("completed 12, queued 4"). */
async function phaseCounts(h: SessionHarness, handles: SessionHandle[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const state of await Promise.all(handles.map((handle) => h.state(handle)))) counts[state.phase] = (counts[state.phase] ?? 0) + 1;
  return counts;
}

async function allCompleted(h: SessionHarness, handles: SessionHandle[], what: string): Promise<SessionState[]> {
  return eventually(
    async () => {
      const states = await Promise.all(handles.map((handle) => h.state(handle)));
      return states.every((state) => state.phase === 'completed') ? states : undefined;
    },
    { timeoutMs: DRAIN_MS, intervalMs: 500, what },
  );
}

/** Terminates the governor's run; returns its run id. */
async function terminateGovernor(h: SessionHarness): Promise<string> {
  const handle = h.client.workflow.getHandle(governorIdOf(h));
  const { runId } = await handle.describe();
  await handle.terminate('defect 11: terminated by hand');
  return runId;
}

/** The state of the governor's run that followed `oldRunId`, once one runs. */
async function freshGovernorState(h: SessionHarness, oldRunId: string): Promise<GovernorState> {
  return eventually(
    async () => {
      const handle = h.client.workflow.getHandle(governorIdOf(h));
      const description = await handle.describe();
      return description.runId !== oldRunId && description.status.name === 'RUNNING' ? handle.query(governorStateQuery) : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'a fresh governor to run' },
  );
}

async function approveAll(handles: SessionHandle[]): Promise<void> {
  await Promise.all(handles.map((handle, i) => handle.signal(approveSignal, { requestId: `approve-${i}`, by: 'chaos' })));
}

test('governor terminated with 10 holders and 8 waiting, then 4 newcomers: HeyGen never sees more than 10, the queue drains', async () => {
  const CAP = 10;
  // HeyGen's own cap lifted, as the tester did: what HeyGen sees is then what we send it.
  const h = await startSessionHarness({ simulatorEnv: { SIMULATOR_CONCURRENCY_LIMIT: '0' }, env: { HEYGEN_MAX_CONCURRENT: String(CAP) } });
  try {
    const holders = await startHolders(h, CAP);
    const waiters = await startRunners(h, 8, 'Waiter');
    await eventually(
      async () => {
        const state = await governorState(h);
        return state.holders.length === CAP && state.waiting.length === 8 ? state : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the governor to have 10 holders and 8 waiting' },
    );
    const oldRunId = await terminateGovernor(h);

    // Newcomers start a fresh governor.
    const newcomers = await startRunners(h, 4, 'Newcomer');
    const fresh = await freshGovernorState(h, oldRunId);
    // Every newcomer has reached the governor (and may have been granted a slot at once).
    await Promise.all(
      newcomers.map((handle) =>
        eventually(async () => ((await h.state(handle)).heygen.slot !== 'none' ? true : undefined), { timeoutMs: 60_000, intervalMs: 100, what: `${handle.workflowId} to reach the governor` }),
      ),
    );
    // The fresh governor learns of all 22 from the sessions themselves (before the fix it knew only the 4).
    const rebuilt = await eventually(
      async () => {
        const state = await governorState(h);
        return state.holders.length + state.waiting.length >= CAP + 12 ? state : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the fresh governor to know all 22 sessions' },
    ).catch(() => governorState(h));
    const beforeApproval = await h.sim.stats();

    await approveAll(holders);
    const everyone = [...holders, ...waiters, ...newcomers];
    let drained = true;
    await allCompleted(h, everyone, 'all 22 sessions to complete').catch(() => {
      drained = false;
    });
    const stats = await h.sim.stats();
    const phases = await phaseCounts(h, everyone);
    report(
      `governor lost (cap ${CAP}): fresh governor first seen with ${fresh.holders.length} holders, ${fresh.waiting.length} waiting; ` +
        `after its rebuild ${rebuilt.holders.length} holders, ${rebuilt.waiting.length} waiting; ` +
        `HeyGen active jobs before approval ${JSON.stringify(Object.values(beforeApproval.keys).map((key) => key.active_jobs))}, ` +
        `max_active_jobs ${stats.max_active_jobs}; HeyGen sessions ${stats.sessions.length}; ` +
        `create 429: ${stats.responses['create_session 429'] ?? 0}; phases at the end ${JSON.stringify(phases)}`,
    );
    expect(stats.max_active_jobs).toBeLessThanOrEqual(CAP);
    expect(drained).toBe(true);
    expect(phases).toEqual({ completed: 22 });
    await recordHistory(h.client.workflow.getHandle(governorIdOf(h)), 'rebuilt', 'governor');
  } finally {
    await h.close();
  }
});

test('governor terminated while 2 hold and 2 wait, nobody new comes: the queue drains as the holders finish', async () => {
  const CAP = 2;
  const h = await startSessionHarness({ simulatorEnv: { SIMULATOR_CONCURRENCY_LIMIT: '0' }, env: { HEYGEN_MAX_CONCURRENT: String(CAP) } });
  try {
    const holders = await startHolders(h, CAP);
    const waiters = await startRunners(h, 2, 'Waiter');
    await eventually(
      async () => {
        const state = await governorState(h);
        return state.holders.length === CAP && state.waiting.length === 2 ? state : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the governor to have 2 holders and 2 waiting' },
    );
    const oldRunId = await terminateGovernor(h);
    await approveAll(holders);
    const fresh = await freshGovernorState(h, oldRunId).catch(() => null);
    let drained = true;
    await allCompleted(h, [...holders, ...waiters], 'all 4 sessions to complete').catch(() => {
      drained = false;
    });
    const stats = await h.sim.stats();
    const phases = await phaseCounts(h, [...holders, ...waiters]);
    report(`governor lost, nobody new (cap ${CAP}): a fresh governor ${fresh ? `ran with ${fresh.holders.length} holders, ${fresh.waiting.length} waiting` : 'never ran'}; max_active_jobs ${stats.max_active_jobs}, HeyGen sessions ${stats.sessions.length}, phases ${JSON.stringify(phases)}`);
    expect(stats.max_active_jobs).toBeLessThanOrEqual(CAP);
    expect(drained).toBe(true);
    expect(phases).toEqual({ completed: 4 });
    // The holder whose release found no governor, and started the fresh one.
    for (const handle of holders) {
      const history = await handle.fetchHistory();
      if (history.events?.some((event) => event.signalExternalWorkflowExecutionFailedEventAttributes)) await recordHistory(handle, 'release-revived-governor');
    }
  } finally {
    await h.close();
  }
});

test('governor terminated, and its one holder ended by force without releasing: the session still queued asks again and gets the slot', async () => {
  const h = await startSessionHarness({ simulatorEnv: { SIMULATOR_CONCURRENCY_LIMIT: '0' }, env: { HEYGEN_MAX_CONCURRENT: '1' } });
  try {
    const [holder] = await startHolders(h, 1);
    const waiter = await h.start({ prompt: 'Waiter [[sim think=1s generate=2000s]]', autoApprove: true, timing: { queueRecheck: '3s' } });
    await eventually(async () => ((await governorState(h)).waiting.length === 1 ? true : undefined), { timeoutMs: 60_000, intervalMs: 200, what: 'the waiter to queue' });
    // Nobody is left to release or to ask: only the waiter's own asking again can start a governor.
    await terminateGovernor(h);
    await holder!.terminate('ended by force: it never releases its slot');
    let completed = true;
    await allCompleted(h, [waiter], 'the waiter to complete').catch(() => {
      completed = false;
    });
    const state = await h.state(waiter);
    report(`governor and its holder gone, one waiter asking again every 3 s: waiter ${state.phase}, slot ${state.heygen.slot}`);
    expect(completed).toBe(true);
  } finally {
    await h.close();
  }
});
