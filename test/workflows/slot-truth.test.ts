/**
 * Issue #22, defects 12 and 14: a slot is free only once HeyGen no longer counts the job, and a stop
 * cancels a create that waits on 429s at once.
 * - 12: sessions that ended at a checkpoint (expired at review, stopped at review) gave their slot back
 *   while HeyGen still counted their jobs (the next create met 429 for a whole minute); a session stopped
 *   while HeyGen worked gave its slot back before HeyGen's stop took effect at the next checkpoint.
 * - 14: `stop` on a session whose create kept meeting 429 left it `creating` (for up to 24 h).
 */
import { temporal } from '@temporalio/proto';
import { governorStateQuery } from '../../src/contract/governor';
import { SESSION_FAILURE } from '../../src/contract/failures';
import { VideoAgentStatus } from '../../src/contract/search-attributes';
import type { SessionState } from '../../src/contract/session';
import type { SessionHandle } from '../../src/temporal/sessions';
import { governorIdOf } from '../chaos/support';
import { recordHistory, startSessionHarness, type SessionHarness } from '../harness/sessions';
import { eventually } from '../harness/wait';

async function creates429(h: SessionHarness): Promise<number> {
  return (await h.sim.stats()).responses['create_session 429'] ?? 0;
}

async function ended(handle: SessionHandle): Promise<SessionState> {
  try {
    return await handle.result();
  } catch {
    return handle.query<SessionState>('state');
  }
}

describe('a slot is free only once HeyGen no longer counts the job (defect 12)', () => {
  test('cap 2: after one session expires and one is stopped at review, the next is created without a 429', async () => {
    const CAP = 2;
    const h = await startSessionHarness({ simulatorEnv: { SIMULATOR_CONCURRENCY_LIMIT: String(CAP) }, env: { HEYGEN_MAX_CONCURRENT: String(CAP) } });
    try {
      const expiring = await h.start({ prompt: 'Expires at review [[sim think=1s]]', review: { timeout: '1s', onTimeout: 'stop' } });
      const stopped = await h.start({ prompt: 'Stopped at review [[sim think=1s]]' });
      await h.waitForPhase(stopped, 'reviewing');
      await stopped.cancel();
      const endings = await Promise.all([ended(expiring), ended(stopped)]);

      const next = await h.start({ prompt: 'The next one [[sim think=1s]]' });
      const reached = await h.waitForPhase(next, 'reviewing', 30_000).catch(() => null);
      const stats = await h.sim.stats();
      const halted = stats.sessions.filter((session) => [expiring.workflowId, stopped.workflowId].includes(session.callback_id ?? '')).map((s) => `${s.status}${s.halted ? ' (halted)' : ''}`);
      const count429 = await creates429(h);
      console.info(
        `defect 12, at a checkpoint: endings ${endings.map((e) => e.phase).join(', ')}; HeyGen then reads them ${halted.join(', ')}; ` +
          `active jobs ${JSON.stringify(Object.values(stats.keys).map((k) => k.active_jobs))}; next session ${reached?.phase ?? (await h.state(next)).phase}; create 429: ${count429}`,
      );
      expect(endings.map((e) => [e.phase, e.error?.type])).toEqual([
        ['expired', SESSION_FAILURE.reviewDeadlinePassed],
        ['stopped', SESSION_FAILURE.stopped],
      ]);
      expect(reached?.phase).toBe('reviewing');
      expect(count429).toBe(0);
      expect(stats.max_active_jobs).toBeLessThanOrEqual(CAP);
      await recordHistory(stopped, 'stopped-at-review-confirmed');
    } finally {
      await h.close();
    }
  });

  test('cap 1, real time: a session stopped while HeyGen thinks keeps its slot until HeyGen halts it', async () => {
    // At real time HeyGen's stop takes effect at its next checkpoint, up to 2 s after the stop.
    const h = await startSessionHarness({ simulatorEnv: { SIMULATOR_CONCURRENCY_LIMIT: '1', SIMULATOR_TIME_SCALE: '1' }, env: { HEYGEN_MAX_CONCURRENT: '1' } });
    try {
      const first = await h.start({ prompt: 'Thinking for an hour [[sim think=1h]]' });
      await h.waitForPhase(first, 'thinking');
      const second = await h.start({ prompt: 'Waits its turn [[sim think=1h]]' });
      await h.waitForPhase(second, 'queued');
      await first.cancel();
      const firstEnded = await ended(first);
      const reached = await h.waitForPhase(second, 'thinking', 30_000).catch(() => null);
      const count429 = await creates429(h);
      const [heygenFirst] = await h.heygenSessions(first.workflowId);
      console.info(
        `defect 12, stopped while thinking: first ${firstEnded.phase}, HeyGen reads it ${heygenFirst?.status}${heygenFirst?.halted ? ' (halted)' : ''}; ` +
          `second ${reached?.phase ?? (await h.state(second)).phase}; create 429: ${count429}; max_active_jobs ${(await h.sim.stats()).max_active_jobs}`,
      );
      expect(firstEnded.phase).toBe('stopped');
      expect(reached?.phase).toBe('thinking');
      expect(count429).toBe(0);
      await recordHistory(first, 'stop-confirmed');
      await second.cancel();
      await ended(second);
    } finally {
      await h.close();
    }
  });
});

describe('a stop cancels a create that waits on 429s (defect 14)', () => {
  test('stop during a create refused with 429: stopped at once, slot released, no HeyGen session left running', async () => {
    const h = await startSessionHarness({ simulatorEnv: { SIMULATOR_CONCURRENCY_LIMIT: '1' }, env: { HEYGEN_MAX_CONCURRENT: '5' } });
    try {
      // A job we do not govern takes HeyGen's only slot: our create meets 429 until it ends.
      const outsider = await h.sim.client().createSession({ prompt: 'Someone else [[sim think=1000h]]', mode: 'chat' });
      const handle = await h.start({ prompt: 'Cannot start [[sim think=1s]]' });
      await eventually(async () => ((await creates429(h)) >= 2 && (await h.state(handle)).phase === 'creating' ? true : undefined), {
        timeoutMs: 30_000,
        what: 'the create to meet 429 twice',
      });
      const stopAt = Date.now();
      await handle.cancel();
      const state = await eventually(
        async () => {
          const current = await h.state(handle);
          return current.phase === 'stopped' ? current : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: 'the session to end stopped' },
      ).catch(async () => h.state(handle));
      const stoppedInMs = Date.now() - stopAt;
      const attribute = (await handle.describe()).typedSearchAttributes.get(VideoAgentStatus);
      const governor = await h.client.workflow.getHandle(governorIdOf(h)).query(governorStateQuery);
      const heygen = await h.heygenSessions(handle.workflowId);
      console.info(
        `defect 14: phase ${state.phase} ${stoppedInMs} ms after the stop, error ${state.error?.type ?? null}, VideoAgentStatus ${attribute}, slot ${state.heygen.slot}, ` +
          `governor holders ${governor.holders.length}, HeyGen sessions of it ${heygen.length}, create 429: ${await creates429(h)}`,
      );
      expect(state.phase).toBe('stopped');
      expect(state.error?.type).toBe(SESSION_FAILURE.stopped);
      expect(attribute).toBe('stopped');
      expect(state.heygen.slot).toBe('released');
      expect(governor.holders.map((holder) => holder.sessionId)).not.toContain(handle.workflowId);
      // No session of ours runs at HeyGen: none was made, or the one made was stopped.
      expect(heygen.filter((session) => !session.halted && !['failed', 'completed'].includes(session.status))).toEqual([]);
      await recordHistory(handle, 'create-stopped');
      await h.sim.client().stopSession(outsider.session_id);
    } finally {
      await h.close();
    }
  });

  test('stop while a slow create is under way: the session ends stopped, and a HeyGen session the create made is stopped', async () => {
    const h = await startSessionHarness();
    try {
      // Every HeyGen answer takes 1.5 s: the stop comes while the create is being sent or answered.
      await h.sim.configure({ latencyMs: 1_500 });
      const handle = await h.start({ prompt: 'Slow create [[sim think=1h]]' });
      // The create's attempt has started (a worker runs it): its POST is on its way or at HeyGen.
      await eventually(
        async () => {
          const { raw } = await handle.describe();
          return (raw.pendingActivities ?? []).some((activity) => activity.activityType?.name === 'createHeyGenSession' && activity.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED)
            ? true
            : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 20, what: 'the create attempt to start' },
      );
      await handle.cancel();
      const state = await eventually(
        async () => {
          const current = await h.state(handle);
          return (await handle.describe()).status.name !== 'RUNNING' ? current : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: 'the session to end' },
      );
      const heygen = await h.heygenSessions(handle.workflowId);
      console.info(
        `defect 14, stop during a slow create: phase ${state.phase}, error ${state.error?.type ?? null}, slot ${state.heygen.slot}; ` +
          `HeyGen sessions of it ${heygen.length} (${heygen.map((s) => `${s.status}${s.halted ? ' halted' : ''}, stops ${s.calls.stop}`).join('; ')})`,
      );
      expect([state.phase, state.error?.type]).toEqual(['stopped', SESSION_FAILURE.stopped]);
      // The attempt under way was let finish: HeyGen made the session, and the ending stopped it.
      expect(heygen.length).toBe(1);
      expect(heygen[0]!.calls.stop).toBe(1);
      // Whichever way the race went, nothing of ours runs at HeyGen.
      expect(heygen.filter((session) => !session.halted && !['failed', 'completed'].includes(session.status))).toEqual([]);
      if (heygen.length === 1) expect(state.heygenSessionId).toBe(heygen[0]!.session_id);
    } finally {
      await h.close();
    }
  });
});
