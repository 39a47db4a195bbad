/**
 * HeyGen's bad days, small and fast (the full-size setups are in `npm run test:chaos`): a status read
 * that keeps failing is retried past its quick attempts while the session says HeyGen is unreachable,
 * and storyboard images are read one by one, so images that do not come never hold up or fail a review.
 */
import { approveSignal } from '../../src/contract/session';
import { detailsOf, recordHistory, startSessionHarness, type SessionHarness } from '../harness/sessions';
import { eventually } from '../harness/wait';

let h: SessionHarness;
beforeAll(async () => {
  h = await startSessionHarness();
});
afterAll(async () => {
  await h?.close();
});

test('reads that keep failing: the session says HeyGen is unreachable, retries, and carries on when it answers', async () => {
  const handle = await h.start({ prompt: 'Outage [[sim think=3000s generate=50s]]', autoApprove: true });
  const thinking = await h.waitForPhase(handle, 'thinking');
  // Four quick attempts fail, then two patient ones; the third patient attempt gets through.
  await h.sim.fault({ endpoint: 'get_session', fault: '503', count: 6, session_id: thinking.heygenSessionId! });
  const unreachable = await eventually(async () => {
    const state = await h.state(handle);
    return state.heygen.unreachableSince ? state : undefined;
  }, { timeoutMs: 30_000, what: 'HeyGen reported unreachable' });
  expect(unreachable.phase).toBe('thinking');
  expect(unreachable.heygen.lastError).toContain('503');
  expect(await detailsOf(handle)).toMatch(/^\*\*HeyGen unreachable since \d\d:\d\d UTC, retrying\*\* · HeyGen is thinking since/);
  const result = await handle.result();
  expect(result).toMatchObject({ phase: 'completed', heygen: { unreachableSince: null, lastError: null } });
  const [heygen] = await h.heygenSessions(handle.workflowId);
  console.log(`outage of 6 failed reads: ${heygen!.calls.get} status reads answered, unreachable since ${unreachable.heygen.unreachableSince}, completed`);
  expect((await h.sim.stats()).faults_injected['503']).toBeGreaterThanOrEqual(6);
  await recordHistory(handle, 'unreachable-then-back');
});

test('storyboard images that do not come show as loading; the review goes on and the session completes', async () => {
  // HeyGen thinks until the faults are in place (finishPhase), however long that takes here.
  const handle = await h.start({ prompt: 'Images [[sim think=1000h generate=50s scenes=3]]' });
  const thinking = await h.waitForPhase(handle, 'thinking');
  await h.sim.fault({ endpoint: 'get_resource', fault: '500', count: 10_000, session_id: thinking.heygenSessionId! });
  await h.sim.finishPhase(thinking.heygenSessionId!);
  const review = await h.waitForPhase(handle, 'reviewing', 60_000);
  expect(review.review!.resources).toHaveLength(3);
  for (const resource of review.review!.resources) {
    expect(resource).toMatchObject({ status: 'loading', url: null, note: expect.stringContaining('retrying') });
  }
  await handle.signal(approveSignal, { requestId: 'go' });
  expect((await handle.result()).phase).toBe('completed');
});

test('images that fail only at first are filled in when they arrive', async () => {
  const handle = await h.start({ prompt: 'Images later [[sim think=1000h scenes=2]]' });
  const thinking = await h.waitForPhase(handle, 'thinking');
  // Enough for both images' quick attempts (4 each) and one patient attempt.
  await h.sim.fault({ endpoint: 'get_resource', fault: '503', count: 9, session_id: thinking.heygenSessionId! });
  await h.sim.finishPhase(thinking.heygenSessionId!);
  const review = await h.waitForPhase(handle, 'reviewing', 60_000);
  expect(review.review!.resources.some((r) => r.status === 'loading')).toBe(true);
  const filled = await eventually(async () => {
    const state = await h.state(handle);
    return state.review?.resources.every((r) => r.status === 'ready') ? state : undefined;
  }, { timeoutMs: 30_000, what: 'every image filled in' });
  expect(filled.phase).toBe('reviewing');
  expect(filled.review!.resources.map((r) => r.url)).toEqual([expect.stringContaining('/media/resources/'), expect.stringContaining('/media/resources/')]);
  await handle.cancel();
  await expect(handle.result()).rejects.toThrow();
  await recordHistory(handle, 'images-filled-later');
});
