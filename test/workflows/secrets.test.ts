/**
 * The HeyGen key stays in the worker: a session run with a distinctive key leaves no trace of it in the
 * workflow's history (inputs, activity arguments and results, failures), memo or search attributes.
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { approveSignal } from '../../src/contract/session';
import { startSessionHarness, type SessionHarness } from '../harness/sessions';
import { uniqueId } from '../harness/temporal';

const SECRET = 'sk_V2_secret_that_must_not_leak_42';

/** The history as text, with every payload decoded (payload data is base64 in history JSON). */
function readable(historyJson: string): string {
  const parts: string[] = [historyJson];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'data' && typeof inner === 'string') parts.push(Buffer.from(inner, 'base64').toString('utf8'));
        else walk(inner);
      }
    }
  };
  walk(JSON.parse(historyJson));
  return parts.join('\n');
}
let h: SessionHarness;
beforeAll(async () => {
  h = await startSessionHarness({ worker: false, simulatorEnv: { SIMULATOR_API_KEYS: `sim_local_key,${SECRET}` } });
});
afterAll(async () => {
  await h?.close();
});

test('no trace of the HeyGen key in history, memo or search attributes, also when a call fails', async () => {
  const taskQueue = uniqueId('secret');
  await h.startWorker({ apiKey: SECRET }, taskQueue);
  // One HeyGen failure on the way, so error details are in the history too.
  await h.sim.fault({ endpoint: 'get_session', fault: '500' });
  const handle = await h.start({ prompt: 'Secret keeping [[sim think=50s generate=50s]]' }, { taskQueue });
  await h.waitForPhase(handle, 'reviewing');
  await handle.signal(approveSignal, { requestId: 'ok' });
  await handle.result();
  const history = readable(historyToJSON(await handle.fetchHistory()));
  // Payloads are decoded: the prompt and the HeyGen session id are readable, and so is the failure...
  expect(history).toContain('Secret keeping');
  expect(history).toContain('sess_');
  expect(history).toContain('Approved. Please go ahead'); // an activity's arguments
  expect(history).toContain('HeyGen 500 internal_error');
  // ...and the key is nowhere.
  expect(history).not.toContain(SECRET);
  const description = await handle.describe();
  expect(JSON.stringify({ memo: description.memo, attributes: description.searchAttributes })).not.toContain(SECRET);
});
