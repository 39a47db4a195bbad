/**
 * Issue #9, a bad day at HeyGen: 20 sessions while 60% of HeyGen calls fail (429 20%, 5xx 30%, connection
 * reset 5%, malformed body 5%). Before the fix (8a6d53b) 6 of the 20 failed ("Activity task failed")
 * once a call ran out of attempts. Now every session completes, each with exactly one HeyGen session
 * (ambiguous creates are retried under their key) and, for the ones a person approved, exactly one
 * message.
 */
import type { SessionHandle } from '../../src/temporal/sessions';
import { approveSignal } from '../../src/contract/session';
import type { ResourceInfo, SessionState } from '../../src/contract/session';
import { startSessionHarness, type SessionHarness } from '../harness/sessions';
import { eventually } from '../harness/wait';
import { report } from './support';

const N = 20;
let h: SessionHarness;

beforeAll(async () => {
  h = await startSessionHarness({
    simulatorEnv: {
      SIMULATOR_FAULT_RATE_429: '0.2',
      SIMULATOR_FAULT_RATE_5XX: '0.3',
      SIMULATOR_FAULT_RATE_RESET: '0.05',
      SIMULATOR_FAULT_RATE_MALFORMED: '0.05',
      SIMULATOR_RETRY_AFTER_SECONDS: '1',
    },
  });
});
afterAll(async () => {
  await h?.close();
});

interface Outcome {
  handle: SessionHandle;
  approvedByPerson: boolean;
  /** The storyboard images as the reviewer first saw them (person-approved sessions only). */
  imagesAtReview: ResourceInfo['status'][];
  result: SessionState;
  ms: number;
}

async function runOne(index: number): Promise<Outcome> {
  const approvedByPerson = index % 2 === 1;
  const started = Date.now();
  const handle = await h.start({
    prompt: `Bad day ${index + 1} [[sim think=2000s generate=2000s scenes=4]]`,
    autoApprove: !approvedByPerson,
  });
  let imagesAtReview: ResourceInfo['status'][] = [];
  if (approvedByPerson) {
    const review = await eventually(
      async () => {
        const state = await h.state(handle);
        if (state.phase !== 'reviewing' && state.phase !== 'queued' && state.phase !== 'creating' && state.phase !== 'thinking') {
          throw new Error(`${handle.workflowId} went to ${state.phase} instead of reviewing`);
        }
        return state.phase === 'reviewing' ? state : undefined;
      },
      { timeoutMs: 5 * 60_000, intervalMs: 250, what: `${handle.workflowId} to reach reviewing` },
    );
    imagesAtReview = review.review!.resources.map((resource) => resource.status);
    await handle.signal(approveSignal, { requestId: `chaos-approve-${index + 1}`, by: 'chaos' });
  }
  const result = await handle.result();
  return { handle, approvedByPerson, imagesAtReview, result, ms: Date.now() - started };
}

test('20 sessions through 60% faults all complete, with one HeyGen session each and one message per approval', async () => {
  const started = Date.now();
  const outcomes = await Promise.all(Array.from({ length: N }, (_, index) => runOne(index)));
  const elapsed = Date.now() - started;

  const stats = await h.sim.stats();
  const perWorkflow = outcomes.map(({ handle }) => stats.sessions.filter((session) => session.callback_id === handle.workflowId));
  const heygenCounts = perWorkflow.map((sessions) => sessions.length);
  const messageCounts = perWorkflow.map((sessions) => sessions.reduce((sum, session) => sum + session.messages.length, 0));
  const approved = outcomes.map((outcome, index) => ({ ...outcome, messages: messageCounts[index]! })).filter((outcome) => outcome.approvedByPerson);
  const images = approved.flatMap((outcome) => outcome.imagesAtReview);
  const count = (status: ResourceInfo['status']) => images.filter((s) => s === status).length;
  const seconds = outcomes.map((outcome) => Math.round(outcome.ms / 1000)).sort((a, b) => a - b);
  const completed = outcomes.filter((outcome) => outcome.result.phase === 'completed').length;
  const faults = Object.entries(stats.faults_injected).map(([kind, n]) => `${kind} ${n}`).join(', ');
  const totalCalls = Object.values(stats.totals).reduce((sum, n) => sum + n, 0);
  const failedResponses = Object.entries(stats.responses)
    .filter(([key]) => !/ 2\d\d$/.test(key))
    .reduce((sum, [, n]) => sum + n, 0);

  report(
    `faults: ${N} sessions (${approved.length} approved by a person), ${completed} completed in ${Math.round(elapsed / 1000)} s ` +
      `(per session ${seconds[0]}-${seconds[N - 1]} s, median ${seconds[N / 2]} s); ` +
      `faults injected: ${faults} over ${totalCalls} HeyGen calls (${failedResponses} non-2xx responses), idempotent replays ${stats.idempotent_replays}; ` +
      `HeyGen sessions per workflow: ${heygenCounts.join(',')}; messages per approved session: ${approved.map((outcome) => outcome.messages).join(',')}; ` +
      `storyboard images at review: ${count('ready')} ready, ${count('loading')} loading, ${count('unavailable')} unavailable`,
  );

  expect(outcomes.map(({ handle, result }) => [handle.workflowId, result.phase, result.error?.type ?? null])).toEqual(
    outcomes.map(({ handle }) => [handle.workflowId, 'completed', null]),
  );
  // The faults really happened, of every kind asked for.
  for (const kind of Object.keys(stats.faults_injected)) expect(stats.faults_injected[kind]).toBeGreaterThan(0);
  expect(Object.keys(stats.faults_injected).length).toBeGreaterThanOrEqual(4);
  // No duplicate creates: one HeyGen session per workflow.
  expect(heygenCounts).toEqual(Array(N).fill(1));
  // Each approval reached HeyGen exactly once; the pre-approved sessions sent nothing.
  expect(approved.map((outcome) => outcome.messages)).toEqual(Array(N / 2).fill(1));
  expect(messageCounts.filter((_, index) => !outcomes[index]!.approvedByPerson)).toEqual(Array(N / 2).fill(0));
  for (const outcome of approved) {
    expect(outcome.imagesAtReview).toHaveLength(4);
    expect(outcome.result.actions).toEqual([expect.objectContaining({ kind: 'approve', by: 'chaos', outcome: 'applied' })]);
  }
  // Every video is there in the end.
  for (const { result } of outcomes) expect(result.video).toMatchObject({ status: 'completed', url: expect.any(String) });
});
