/**
 * The governor tells a session its place in the queue as soon as it asks for a slot, so the position can
 * reach the session before (or with) the result of the activity that asked. Reproduced every run: the
 * scripted `requestHeyGenSlot` has the position signal recorded in the session's history before it
 * returns. The session must keep it (the governor sends a position only when it changes), show it, and
 * notify `session.queued`.
 */
import { queuePositionSignal, slotGrantedSignal } from '../../src/contract/governor';
import { recordHistory } from '../harness/sessions';
import { runningWorkflowId, ScriptedHeyGen, startFastHarness, type FastHarness } from '../harness/time-skipping';

let h: FastHarness;
beforeAll(async () => {
  h = await startFastHarness();
});
afterAll(() => h?.close());

test('a queue position that arrives before the slot request returns is kept, shown and notified', async () => {
  const heygen = new ScriptedHeyGen();
  const activities = {
    ...heygen.activities(),
    requestHeyGenSlot: async () => {
      const session = h.env.client.workflow.getHandle(runningWorkflowId());
      await session.signal(queuePositionSignal, { position: 1, queued: 3 });
      await h.historyHas(session, (event) => event.workflowExecutionSignaledEventAttributes !== undefined, 'the position signal in the history');
      return { governed: true as const, account: 'acct', governorId: 'heygen-governor-none', holdSlotWhileParked: true };
    },
  };
  await h.withWorker(activities, async () => {
    const handle = await h.start({ prompt: 'Queued behind others', notify: { url: 'https://example.invalid/hook' } });
    const queued = await h.stateWhere(handle, (s) => s.phase === 'queued', 'the session queued');
    console.log(`queued: position=${queued.queue?.position ?? 'none'} of ${queued.queue?.queued ?? '?'}, notifications=${queued.notifications.map((n) => n.event).join(',') || 'none'}`);
    await handle.signal(queuePositionSignal, { position: 1, queued: 2 });
    await handle.signal(slotGrantedSignal, { grantedAt: new Date().toISOString() });
    const reviewing = await h.stateWhere(handle, (s) => s.phase === 'reviewing', 'the storyboard after the grant');
    await handle.cancel();
    await handle.result().catch(() => undefined);
    await recordHistory(handle, 'queue-position-kept');
    expect(queued.queue).toMatchObject({ position: 1, queued: 3 });
    expect(queued.notifications.map((n) => n.event)).toEqual(['session.queued']);
    // A later position is shown, not notified again.
    expect(reviewing.notifications.filter((n) => n.event === 'session.queued')).toHaveLength(1);
  });
});
