/**
 * @module The decision race: `approve` and `sendMessage` signals that arrive together, while another
 * decision is being sent to HeyGen, with the send's result, or with the review deadline. Each decision is
 * applied once (HeyGen gets it once) or settled `ignored`/`failed` with its reason; none is lost or left
 * pending, none is sent twice, and a repeat of a request id does nothing.
 *
 * The interleavings are made, not hoped for: the scripted `sendHeyGenMessage` is held until the signal
 * is recorded in the history (then the workflow handles it while the send runs), or the workflow worker
 * is paused while the events pile up (then one workflow task delivers them all; the history shows it).
 */
import type { SendMessageInput } from '../../src/activities';
import { approveSignal, decisionOutcomeUpdate, sendMessageSignal, type Action, type SessionState } from '../../src/contract/session';
import { countBy } from '../harness/counts';
import { activityEvents, heygenRefusal, latch, ScriptedHeyGen, startFastHarness, taskThatDelivered, type FastHarness, type HistoryEvent } from '../harness/time-skipping';

let h: FastHarness;
beforeAll(async () => {
  h = await startFastHarness();
});
afterAll(() => h?.close());

/** HeyGen's first message send is held (`sending` once it is) until `release`; then `then` runs (a refusal, say). */
function holdFirstMessage(heygen: ScriptedHeyGen, then: () => void = () => undefined) {
  const sending = latch();
  const release = latch();
  heygen.onMessage = async (_input, count) => {
    if (count !== 1) return;
    sending.resolve();
    await release.promise;
    then();
  };
  return { sending, release };
}

const decisionSignals = (events: HistoryEvent[]) =>
  events.filter((event) => ['approve', 'sendMessage'].includes(event.workflowExecutionSignaledEventAttributes?.signalName ?? ''));
/** The decisions people sent, as the session recorded them. */
const peoples = (state: SessionState) => state.actions.filter((action) => action.kind === 'approve' || action.kind === 'message');
const summary = (actions: Action[]) => actions.map(({ kind, requestId, outcome }) => `${kind} ${requestId}: ${outcome}`);
/** The request ids HeyGen got a message for (from the Idempotency-Key each send carries). */
const sentFor = (messages: SendMessageInput[]) => messages.map((message) => message.idempotencyKey.split(':message:')[1]);
const atReview = (handle: Parameters<FastHarness['state']>[0], revision = 1) =>
  h.stateWhere(handle, (s) => s.phase === 'reviewing' && s.revisions === revision, `storyboard ${revision} awaiting review`);

function report(what: string, heygen: ScriptedHeyGen, state: SessionState): void {
  const people = peoples(state);
  console.log(
    `${what}: sends to HeyGen ${heygen.count('sendHeyGenMessage')} (delivered for ${sentFor(heygen.messages).join(', ')}); ` +
      `decisions recorded ${people.length} ${JSON.stringify(countBy(people.map((a) => a.outcome)))}; pending ${people.filter((a) => a.outcome === 'pending').length}`,
  );
}

test('decisions recorded together reach the session in one task: the first is applied, the next ignored as superseded, a repeat does nothing', async () => {
  const heygen = new ScriptedHeyGen();
  await h.withGatedWorkers(heygen.activities(), async (gate) => {
    const handle = await h.start({ prompt: 'Two reviewers at once' });
    await atReview(handle);
    await gate.pause();
    await handle.signal(approveSignal, { requestId: 'ann-1', by: 'ann' });
    await handle.signal(sendMessageSignal, { requestId: 'bob-1', by: 'bob', message: 'Shorter intro' });
    await handle.signal(approveSignal, { requestId: 'ann-1', by: 'ann' });
    await h.historyWhere(handle, (events) => decisionSignals(events).length === 3, 'the three decisions in the history');
    await gate.resume();
    const final = await handle.result();

    const events = (await handle.fetchHistory()).events ?? [];
    const tasks = new Set(decisionSignals(events).map((signal) => taskThatDelivered(events, signal)));
    report(`3 decisions delivered in ${tasks.size} workflow task(s)`, heygen, final);
    expect(tasks.size).toBe(1);
    expect(sentFor(heygen.messages)).toEqual(['ann-1']);
    expect(heygen.messages[0]!.autoProceed).toBe(true);
    expect(summary(peoples(final))).toEqual(['approve ann-1: applied', 'message bob-1: ignored']);
    expect(peoples(final)[1]!.reason).toMatch(/^superseded: the approve by ann was applied first/);
    expect(final.phase).toBe('completed');
  });
});

test('decisions that come while one is being sent wait their turn: superseded once it is applied, a repeat does nothing', async () => {
  const heygen = new ScriptedHeyGen();
  const { sending, release } = holdFirstMessage(heygen);
  await h.withWorker(heygen.activities(), async () => {
    const handle = await h.start({ prompt: 'A revision, then an approval while it is sent' });
    await atReview(handle);
    await handle.signal(sendMessageSignal, { requestId: 'bob-1', by: 'bob', message: 'Shorter intro' });
    await sending.promise;
    await handle.signal(sendMessageSignal, { requestId: 'bob-1', by: 'bob', message: 'Shorter intro' });
    await handle.signal(approveSignal, { requestId: 'ann-1', by: 'ann' });
    const during = await h.stateWhere(handle, (s) => s.actions.some((a) => a.requestId === 'ann-1'), 'the approval recorded while the message is sent');
    release.resolve();
    await atReview(handle, 2);
    const outcome = await handle.executeUpdate(decisionOutcomeUpdate, { args: [{ requestId: 'ann-1' }] });
    await handle.signal(approveSignal, { requestId: 'ann-2', by: 'ann' });
    const final = await handle.result();

    const events = (await handle.fetchHistory()).events ?? [];
    const [send] = activityEvents(events, 'sendHeyGenMessage');
    const duringSend = decisionSignals(events).filter((s) => Number(s.eventId) > Number(send!.scheduled.eventId) && Number(s.eventId) < Number(send!.completed!.eventId));
    report(`${duringSend.length} decisions recorded while the first was sent`, heygen, final);
    expect(duringSend).toHaveLength(2);
    expect(during.phase).toBe('reviewing');
    expect(summary(peoples(during))).toEqual(['message bob-1: pending', 'approve ann-1: pending']);
    expect(peoples(during)[1]!.reason).toBe('waiting: the message by bob is being sent to HeyGen first');
    expect(outcome.action).toMatchObject({ requestId: 'ann-1', outcome: 'ignored' });
    expect(outcome.action!.reason).toMatch(/^superseded: the message by bob was applied first and the session left the checkpoint/);
    expect(sentFor(heygen.messages)).toEqual(['bob-1', 'ann-2']);
    expect(summary(peoples(final))).toEqual(['message bob-1: applied', 'approve ann-1: ignored', 'approve ann-2: applied']);
    expect(final.phase).toBe('completed');
  });
});

test('a decision waiting behind one HeyGen refuses is applied next', async () => {
  const heygen = new ScriptedHeyGen();
  const { sending, release } = holdFirstMessage(heygen, () => {
    throw heygenRefusal('the session is busy with an earlier message');
  });
  await h.withWorker(heygen.activities(), async () => {
    const handle = await h.start({ prompt: 'An approval HeyGen refuses' });
    await atReview(handle);
    await handle.signal(approveSignal, { requestId: 'ann-1', by: 'ann' });
    await sending.promise;
    await handle.signal(sendMessageSignal, { requestId: 'bob-1', by: 'bob', message: 'Shorter intro' });
    await h.stateWhere(handle, (s) => s.actions.some((a) => a.requestId === 'bob-1'), 'the message recorded while the approval is sent');
    release.resolve();
    const second = await atReview(handle, 2);
    await handle.signal(approveSignal, { requestId: 'ann-2', by: 'ann' });
    const final = await handle.result();

    report('a refused approval, a message behind it', heygen, final);
    expect(summary(peoples(second))).toEqual(['approve ann-1: failed', 'message bob-1: applied']);
    expect(peoples(second)[0]!.reason).toContain('busy with an earlier message');
    expect(heygen.count('sendHeyGenMessage')).toBe(3);
    expect(sentFor(heygen.messages)).toEqual(['bob-1', 'ann-2']);
    expect(final.phase).toBe('completed');
  });
});

test("a decision that reaches the session with the send's result is ignored as superseded, not lost", async () => {
  const heygen = new ScriptedHeyGen();
  const { sending, release } = holdFirstMessage(heygen);
  await h.withGatedWorkers(heygen.activities(), async (gate) => {
    const handle = await h.start({ prompt: 'A message that comes as the approval lands' });
    await atReview(handle);
    await handle.signal(approveSignal, { requestId: 'ann-1', by: 'ann' });
    await sending.promise;
    await gate.pause();
    release.resolve();
    await h.historyWhere(handle, (events) => activityEvents(events, 'sendHeyGenMessage')[0]?.completed, "the send's result in the history");
    await handle.signal(sendMessageSignal, { requestId: 'bob-1', by: 'bob', message: 'Shorter intro' });
    await h.historyWhere(handle, (events) => decisionSignals(events).length === 2, 'the message in the history');
    await gate.resume();
    const final = await handle.result();

    const events = (await handle.fetchHistory()).events ?? [];
    const together = taskThatDelivered(events, decisionSignals(events)[1]!) === taskThatDelivered(events, activityEvents(events, 'sendHeyGenMessage')[0]!.completed!);
    report(`a message in one workflow task with the send's result: ${together}`, heygen, final);
    expect(together).toBe(true);
    expect(sentFor(heygen.messages)).toEqual(['ann-1']);
    expect(summary(peoples(final))).toEqual(['approve ann-1: applied', 'message bob-1: ignored']);
    expect(peoples(final)[1]!.reason).toMatch(/^superseded: the approve by ann was applied first/);
    expect(final.phase).toBe('completed');
  });
});

test('a decision that reaches the session with the review deadline is applied: the deadline it beat does nothing', async () => {
  const heygen = new ScriptedHeyGen();
  await h.withGatedWorkers(heygen.activities(), async (gate) => {
    const handle = await h.start({ prompt: 'Approved as the deadline passes', review: { timeout: '7d', onTimeout: 'stop' } });
    const reviewing = await atReview(handle);
    await gate.pause();
    await h.sleepUntil(Date.parse(reviewing.review!.deadline));
    await h.historyWhere(handle, (events) => events.some((event) => event.timerFiredEventAttributes), 'the deadline in the history');
    await handle.signal(approveSignal, { requestId: 'ann-1', by: 'ann' });
    await h.historyWhere(handle, (events) => decisionSignals(events).length === 1, 'the approval in the history');
    await gate.resume();
    const final = await handle.result();

    const events = (await handle.fetchHistory()).events ?? [];
    const timer = events.find((event) => event.timerFiredEventAttributes)!;
    const together = taskThatDelivered(events, timer) === taskThatDelivered(events, decisionSignals(events)[0]!);
    const late = Date.parse(peoples(final)[0]!.at) - Date.parse(reviewing.review!.deadline);
    report(`an approval ${late} ms past the deadline, in one workflow task with it: ${together}`, heygen, final);
    expect(together).toBe(true);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(summary(final.actions)).toEqual(['approve ann-1: applied']);
    expect(sentFor(heygen.messages)).toEqual(['ann-1']);
    expect(heygen.stops).toEqual([]);
    expect(final.phase).toBe('completed');
  });
});
