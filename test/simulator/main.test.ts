/**
 * `npm run simulator` as a real process: --port, the default key, clean stop, and clear start-up errors.
 */
import net from 'node:net';
import path from 'node:path';
import { DEFAULT_SIMULATOR_API_KEY } from '../../src/simulator/config';
import { findFreePort } from '../../src/temporal/dev-server';
import { PROJECT_ROOT, startProcess, tsNode } from '../harness/processes';

const MAIN = path.join(PROJECT_ROOT, 'src', 'simulator', 'main.ts');

test("serves HeyGen v3 on --port with the default key and stops on SIGTERM; the service's variables are not its business", async () => {
  const port = await findFreePort();
  // Bad for the API and the worker, which would refuse to start; the simulator does not read them.
  const theServicesMistakes = { API_TOKENS: 'not json', HEYGEN_MAX_CONCURRENT: 'ten', API_QUERY_TIMEOUT: '3000' };
  const sim = startProcess(process.execPath, ['--import', 'tsx', MAIN, '--port', String(port)], { ...process.env, LOG_FORMAT: 'json', ...theServicesMistakes });
  await sim.waitForLine(/HeyGen simulator listening on http:\/\/127\.0\.0\.1:\d+/);
  expect(sim.output()).toContain(`http://127.0.0.1:${port}`);
  const response = await fetch(`http://127.0.0.1:${port}/v3/video-agents`, {
    method: 'POST',
    headers: { 'x-api-key': DEFAULT_SIMULATOR_API_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'hello [[sim think=1h]]', mode: 'chat' }),
  });
  expect(response.status).toBe(200);
  sim.child.kill('SIGTERM');
  expect(await sim.exited).toEqual({ code: 0, signal: null });
});

test('a taken port names SIMULATOR_PORT; a bad variable is named too', async () => {
  const blocker = net.createServer();
  const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
  try {
    const taken = startProcess(...tsNode(MAIN), { ...process.env, SIMULATOR_PORT: String(port) });
    expect((await taken.exited).code).toBe(1);
    expect(taken.output()).toContain(`Port ${port} is already in use. Set SIMULATOR_PORT (or pass --port) to a free port.`);
  } finally {
    blocker.close();
  }
  const bad = startProcess(...tsNode(MAIN), { ...process.env, SIMULATOR_FAULT_RATE_5XX: 'lots' });
  expect((await bad.exited).code).toBe(1);
  expect(bad.output()).toMatch(/SIMULATOR_FAULT_RATE_5XX: expected a probability between 0 and 1, got "lots"/);
  expect(bad.output()).not.toMatch(/^\s+at /m);
});
