/**
 * @module The webhook race: a HeyGen webhook (`heygenEvent`) that reaches the session in the same
 * workflow task as the result of a HeyGen read is not lost; the next read comes at once instead of
 * waiting out its schedule. For a follow while a render calls back that wait is `pollWhileCalledBack`,
 * 5 minutes (fixed by ecde044; the real-server version, test/workflows/webhook-race.test.ts, caught it
 * in 1 of 12 sessions); for a read of the finished video, `videoPollInterval` (found here, fixed behind
 * the `video-webhook-kept` patch; replay fixtures of both shapes).
 *
 * Made to happen on every run: while the read runs, the workflow worker is paused; the webhook's signal
 * and the read's result are both recorded (in either order) before it resumes, so they reach the
 * workflow together. The history shows it: one `WorkflowTaskStarted` delivers both.
 */
import type { FollowInput } from '../../src/activities';
import { heygenEventSignal } from '../../src/contract/session';
import { recordHistory } from '../harness/sessions';
import {
  activityEvents,
  eventMs,
  latch,
  patchMarkers,
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

type Latch = ReturnType<typeof latch<void>>;

const webhookIn = (events: HistoryEvent[]) => events.find((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'heygenEvent');
const follows = (events: HistoryEvent[]) => activityEvents(events, 'followHeyGenSession');

/**
 * Inside the racing read: says it is racing, waits until the test has paused the workflow worker, and,
 * for a webhook `before` the result, has it recorded before the read returns.
 */
async function raceTheWebhook(order: 'before' | 'after', racing: Latch, release: Latch): Promise<void> {
  racing.resolve();
  await release.promise;
  if (order === 'before') {
    const session = h.env.client.workflow.getHandle(runningWorkflowId());
    await session.signal(heygenEventSignal, { eventType: 'avatar_video.success' });
    await h.historyWhere(session, webhookIn, 'the webhook in the history');
  }
}

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
    await raceTheWebhook(order, racing, release);
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

test.each(['before', 'after'] as const)('a webhook recorded just %s a read of the finished video that is not ready, in the same workflow task: the next read comes at once', async (order) => {
  const heygen = new ScriptedHeyGen();
  const scripted = heygen.activities();
  const racing = latch();
  const release = latch();
  let reads = 0;
  const activities = {
    ...scripted,
    // The session is completed at HeyGen, its video still processing at the first read, ready at the next.
    getHeyGenVideo: async (videoId: string) => {
      const video = await scripted.getHeyGenVideo(videoId);
      if (++reads !== 1) return video;
      await raceTheWebhook(order, racing, release);
      return { ...video, status: 'processing' };
    },
  };
  await h.withGatedWorkers(activities, async (gate) => {
    const handle = await h.start({ prompt: 'A video still processing', autoApprove: true });
    await racing.promise;
    await gate.pause();
    release.resolve();
    await h.historyWhere(handle, (events) => activityEvents(events, 'getHeyGenVideo')[0]?.completed, "the racing read's result in the history");
    if (order === 'after') {
      await handle.signal(heygenEventSignal, { eventType: 'avatar_video.success' });
      await h.historyWhere(handle, webhookIn, 'the webhook in the history');
    }
    await gate.resume();
    const final = await handle.result();
    if (order === 'before') await recordHistory(handle, 'video-webhook-kept');

    const events = (await handle.fetchHistory()).events ?? [];
    const [race, next] = activityEvents(events, 'getHeyGenVideo');
    const webhook = webhookIn(events)!;
    const together = taskThatDelivered(events, webhook) === taskThatDelivered(events, race!.completed!);
    const between = events.filter((e) => Number(e.eventId) > Number(race!.completed!.eventId) && Number(e.eventId) < Number(next!.scheduled.eventId));
    const timers = between.filter((e) => e.timerStartedEventAttributes).length;
    const waitedMs = eventMs(next!.scheduled) - eventMs(race!.completed!);
    console.log(
      `webhook ${order} the video read: in one workflow task with it: ${together}; reads ${reads}; timers between them ${timers}; ` +
        `the next read ${waitedMs} ms later (else the poll interval, 15 s); patch markers ${patchMarkers(events).join(', ')}`,
    );
    expect(together).toBe(true); // the race happened
    expect(timers).toBe(0);
    expect(waitedMs).toBeLessThan(15_000);
    expect(patchMarkers(events).filter((id) => id === 'video-webhook-kept')).toHaveLength(1);
    expect(final.phase).toBe('completed');
  });
});
