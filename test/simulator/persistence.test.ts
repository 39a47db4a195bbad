/**
 * With SIMULATOR_STATE_FILE, a restarted simulator carries on: the same sessions in the same phases,
 * time having run on while it was down, idempotency keys still answered, counters continued.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestSimulator } from '../harness/simulator';
import { eventually } from '../harness/wait';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'vao-sim-state-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('sessions, keys and counters survive a restart, and phases run on', async () => {
  const env = { SIMULATOR_STATE_FILE: path.join(scratch, 'state.json') };
  const first = await startTestSimulator(env);
  let reviewing: string;
  let thinking: string;
  try {
    const client = first.client();
    reviewing = (await client.createSession({ prompt: 'Parked [[sim think=10s]]', mode: 'chat' }, { idempotencyKey: 'key-1' })).session_id;
    await eventually(async () => (await client.getSession(reviewing)).status === 'reviewing');
    thinking = (await client.createSession({ prompt: 'Slow [[sim think=1500s review=skip generate=10s]]', mode: 'chat', callback_id: 'wf-slow' })).session_id;
    expect((await client.getSession(thinking)).status).toBe('thinking');
  } finally {
    await first.close();
  }

  const second = await startTestSimulator(env);
  try {
    const client = second.client();
    const parked = await client.getSession(reviewing);
    expect(parked.status).toBe('reviewing');
    expect(parked.messages[0]!.resource_ids).toHaveLength(4);
    await expect(client.getResource(reviewing, parked.messages[0]!.resource_ids![0]!)).resolves.toMatchObject({ resource_type: 'image' });
    // The repeated create answers with the session made before the restart.
    expect((await client.createSession({ prompt: 'Parked [[sim think=10s]]', mode: 'chat' }, { idempotencyKey: 'key-1' })).session_id).toBe(reviewing);
    // The slow one went on thinking while the simulator was down, and finishes.
    const done = await eventually(async () => {
      const session = await client.getSession(thinking);
      return session.status === 'completed' ? session : undefined;
    });
    expect((await client.getVideo(done.video_id!)).status).toBe('completed');
    const stats = await second.stats();
    expect(stats.sessions.map((s) => s.session_id).sort()).toEqual([reviewing, thinking].sort());
    expect(stats.totals.create_session).toBe(3);
    expect(stats.idempotent_replays).toBe(1);
    expect(stats.sessions.find((s) => s.session_id === thinking)!.callback_id).toBe('wf-slow');
    // Two were active at once before the restart; one is now.
    expect(stats.max_active_jobs).toBe(2);
    expect(Object.values(stats.keys)).toContainEqual({ active_jobs: 1, max_active_jobs: 2 });
  } finally {
    await second.close();
  }
});

test('a state file saved before max_active_jobs existed loads, counting the restored active sessions', async () => {
  const file = path.join(scratch, 'old.json');
  const first = await startTestSimulator({ SIMULATOR_STATE_FILE: file });
  try {
    for (const prompt of ['a', 'b', 'c']) await first.client().createSession({ prompt: `${prompt} [[sim think=1h]]`, mode: 'chat' });
  } finally {
    await first.close();
  }
  const saved = JSON.parse(await readFile(file, 'utf8')) as { store: { maxActiveJobs?: unknown } };
  expect(saved.store.maxActiveJobs).toBeDefined();
  delete saved.store.maxActiveJobs;
  await writeFile(file, JSON.stringify(saved));

  const second = await startTestSimulator({ SIMULATOR_STATE_FILE: file });
  try {
    const stats = await second.stats();
    expect(stats.sessions).toHaveLength(3);
    expect(stats.max_active_jobs).toBe(3);
  } finally {
    await second.close();
  }
});

test('an unreadable state file is set aside with a warning, not a crash', async () => {
  const file = path.join(scratch, 'broken.json');
  await writeFile(file, '{"version": 1, "store": ');
  const sim = await startTestSimulator({ SIMULATOR_STATE_FILE: file });
  try {
    expect((await sim.stats()).sessions).toEqual([]);
  } finally {
    await sim.close();
  }
});
