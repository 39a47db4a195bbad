/**
 * @module The webhook race: a HeyGen webhook (`heygenEvent`) that reaches the session in the same
 * workflow task as the result of its follow activity is not lost; the next follow reads HeyGen at once
 * instead of waiting out its schedule (while a render calls back: `pollWhileCalledBack`, 5 minutes).
 *
 * Made to happen on every run: while the follow runs, the workflow worker is paused; the webhook's
 * signal and the follow's result are both recorded (in either order) before it resumes, so they reach
 * the workflow together. The history shows it: one `WorkflowTaskStarted` delivers both. (The real-server
 * version, test/workflows/webhook-race.test.ts, caught it in 1 of 12 sessions; fixed by ecde044.)
 */
import type { FollowInput } from '../../src/activities';
import { heygenEventSignal } from '../../src/contract/session';
import {
  activityEvents,
  latch,
  runningWorkflowId,
  ScriptedHeyGen,
  startFastHarness,
  taskThatDelivered,
  type FastHarness,
  type HistoryEvent,
} from '../harness/time-skipping';

let h: FastHarness;
beforeAll(async () => {
  h = await startFastHarness();
});
afterAll(() => h?.close());

const webhookIn = (events: HistoryEvent[]) => events.find((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'heygenEvent');
const follows = (events: HistoryEvent[]) => activityEvents(events, 'followHeyGenSession');

test.each(['before', 'after'] as const)('a webhook recorded just %s the follow result, in the same workflow task: the next follow reads at once', async (order) => {
  const heygen = new ScriptedHeyGen();
  heygen.callsBack = true;
  // Follow 1 finds the storyboard (approved automatically); follow 2, the render's first, races the
  // webhook and answers "still rendering"; follow 3 finds the video done.
  const racing = latch();
  const release = latch();
  heygen.onFollow = async (_input: FollowInput, count: number) => {
    if (count !== 2) return;
    heygen.nextFollows.push({ status: 'generating', progress: 40 });
    racing.resolve();
    await release.promise;
    if (order === 'before') {
      const session = h.env.client.workflow.getHandle(runningWorkflowId());
      await session.signal(heygenEventSignal, { eventType: 'avatar_video.success' });
      await h.historyWhere(session, webhookIn, 'the webhook in the history');
    }
  };
  await h.withGatedWorkers(heygen.activities(), async (gate) => {
    const handle = await h.start({ prompt: 'A render that calls back', autoApprove: true });
    await racing.promise;
    await gate.pause();
    release.resolve();
    await h.historyWhere(handle, (events) => follows(events)[1]?.completed, "the racing follow's result in the history");
    if (order === 'after') {
      await handle.signal(heygenEventSignal, { eventType: 'avatar_video.success' });
      await h.historyWhere(handle, webhookIn, 'the webhook in the history');
    }
    await gate.resume();
    const final = await handle.result();

    const events = (await handle.fetchHistory()).events ?? [];
    const [, race, next] = follows(events);
    const webhook = webhookIn(events)!;
    const together = taskThatDelivered(events, webhook) === taskThatDelivered(events, race!.completed!);
    const afterWebhook = follows(events).filter((follow) => Number(follow.scheduled.eventId) > Number(webhook.eventId));
    const readFirst = afterWebhook.filter((follow) => (follow.input as FollowInput).readFirst).length;
    const { schedule } = race!.input as FollowInput;
    console.log(
      `webhook ${order} the result: in one workflow task with it: ${together}; follows ${follows(events).length}, ` +
        `scheduled after the webhook ${afterWebhook.length}, reading first ${readFirst} (else the first read waits ${schedule.initial / 1000} s)`,
    );
    expect(together).toBe(true); // the race happened
    expect(race!.cancelRequested).toBe(false); // the follow returned: the webhook did not cut it short
    expect(schedule.initial).toBe(5 * 60_000);
    expect(next!.scheduled.eventId).toEqual(afterWebhook[0]!.scheduled.eventId);
    expect((next!.input as FollowInput).readFirst).toBe(true);
    expect(final.phase).toBe('completed');
  });
});
