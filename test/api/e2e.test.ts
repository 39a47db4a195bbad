/**
 * The whole story over HTTP, against the dev server, a worker and the simulator: create, wait for the
 * storyboard, ask for a change, approve, get the video; stop a session mid-way; repeat requests safely.
 */
import { startApiHarness, waitForApiPhase, type ApiHarness } from '../harness/api';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApiHarness();
});
afterAll(async () => {
  await api?.close();
});

interface State {
  phase: string;
  revisions: number;
  review: { revision: number; resources: { url: string }[] } | null;
  actions: { kind: string; outcome: string; by: string }[];
}

test('create → reviewing → revise → reviewing again → approve → completed → video', async () => {
  const created = await api.call<{ id: string; links: Record<string, string> }>('POST', '/v1/sessions', {
    body: { prompt: 'Onboarding video for new engineers [[sim think=50s revise=50s generate=50s scenes=2]]' },
  });
  expect(created.status).toBe(201);
  const { id, links } = created.body;

  const first = (await waitForApiPhase(api, id, 'reviewing')) as unknown as State;
  expect(first.review).toMatchObject({ revision: 1 });
  expect(first.review!.resources).toHaveLength(2);
  expect((await fetch(first.review!.resources[0]!.url)).headers.get('content-type')).toBe('image/png');

  const revised = await api.call<State>('POST', links.messages!, { body: { message: 'Add a scene about code review' } });
  expect(revised.status).toBe(200);
  expect(revised.body.actions).toEqual([expect.objectContaining({ kind: 'message', outcome: 'applied' })]);
  const second = await (async () => {
    for (;;) {
      const state = (await waitForApiPhase(api, id, 'reviewing')) as unknown as State;
      if (state.revisions === 2) return state;
    }
  })();
  expect(second.review!.revision).toBe(2);

  const approved = await api.call<State>('POST', links.approve!, { body: {} });
  expect(approved.status).toBe(200);
  await waitForApiPhase(api, id, 'completed');
  const video = await api.call<{ url: string; durationSeconds: number }>('GET', links.video!);
  expect(video.status).toBe(200);
  expect(video.body.durationSeconds).toBe(30);

  const final = await api.call<State>('GET', links.self!);
  expect(final.body.actions.map((a) => [a.kind, a.outcome, a.by])).toEqual([
    ['message', 'applied', 'acme-tool'],
    ['approve', 'applied', 'acme-tool'],
  ]);
  const [heygen] = await api.sessions.heygenSessions(id);
  expect(heygen!.messages.map((m) => m.auto_proceed)).toEqual([null, true]);
});

test('stop mid-way: the session ends stopped and HeyGen is stopped once', async () => {
  const { body } = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Stop me [[sim review=skip think=50s generate=1h]]' } });
  await waitForApiPhase(api, body.id, 'generating');
  expect((await api.call('POST', `/v1/sessions/${body.id}/stop`)).status).toBe(202);
  await waitForApiPhase(api, body.id, 'stopped');
  // The phase turns `stopped` first; HeyGen is told right after (retried if it cannot be reached).
  await api.sessions.client.workflow.getHandle(body.id).result().catch(() => undefined);
  expect((await api.sessions.heygenSessions(body.id))[0]!.calls.stop).toBe(1);
});

test('repeated creates and approvals with the same keys: one session, one HeyGen message', async () => {
  const body = { prompt: 'Exactly once [[sim think=50s generate=50s]]' };
  const creates = await Promise.all([1, 2, 3].map(() => api.call<{ id: string }>('POST', '/v1/sessions', { body, headers: { 'idempotency-key': 'e2e-create' } })));
  const ids = new Set(creates.map((c) => c.body.id));
  expect(ids.size).toBe(1);
  expect(creates.map((c) => c.status).sort()).toEqual([200, 200, 201]);
  const [id] = [...ids];
  await waitForApiPhase(api, id!, 'reviewing');

  const approvals = await Promise.all([1, 2, 3].map(() => api.call('POST', `/v1/sessions/${id}/approve`, { body: {}, headers: { 'idempotency-key': 'e2e-approve' } })));
  expect(approvals.map((a) => a.status)).toEqual([200, 200, 200]);
  await waitForApiPhase(api, id!, 'completed');
  const sessions = await api.sessions.heygenSessions(id!);
  expect(sessions).toHaveLength(1);
  expect(sessions[0]!.messages).toHaveLength(1);
});
