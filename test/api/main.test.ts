/**
 * `npm run api` as a process: it will not run open, names a taken port, serves, and stops on SIGTERM.
 */
import net from 'node:net';
import path from 'node:path';
import { findFreePort } from '../../src/temporal/dev-server';
import { TOKENS } from '../harness/api';
import { PROJECT_ROOT, startProcess, tsNode } from '../harness/processes';

const API = path.join(PROJECT_ROOT, 'src', 'api', 'main.ts');
const env = (overrides: NodeJS.ProcessEnv) => {
  const result: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: 'json', ...overrides };
  for (const key of ['API_TOKENS', 'API_TOKENS_FILE'] as const) if (!(key in overrides)) delete result[key];
  return result;
};

test('refuses to start without tokens', async () => {
  const run = startProcess(...tsNode(API), env({ PORT: String(await findFreePort()) }));
  expect((await run.exited).code).toBe(1);
  expect(run.output()).toContain('No API tokens are configured. Set API_TOKENS');
  expect(run.output()).not.toMatch(/^\s+at /m);
});

test('serves with tokens and stops on SIGTERM', async () => {
  const port = await findFreePort();
  const run = startProcess(...tsNode(API), env({ PORT: String(port), API_TOKENS: JSON.stringify([TOKENS.admin]) }));
  await run.waitForLine(/API listening on http:\/\/127\.0\.0\.1:\d+ \(docs:/);
  expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  const list = await fetch(`http://127.0.0.1:${port}/v1/sessions?limit=1`, { headers: { authorization: `Bearer ${TOKENS.admin.token}` } });
  expect(list.status).toBe(200);
  run.child.kill('SIGTERM');
  expect(await run.exited).toEqual({ code: 0, signal: null });
  expect(run.output()).not.toContain(TOKENS.admin.token);
});

test('a taken port names PORT', async () => {
  const blocker = net.createServer();
  const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
  try {
    const run = startProcess(...tsNode(API), env({ PORT: String(port), API_TOKENS: JSON.stringify([TOKENS.admin]) }));
    expect((await run.exited).code).toBe(1);
    expect(run.output()).toContain(`Port ${port} is already in use, so the API cannot start. Set PORT to a free port.`);
  } finally {
    blocker.close();
  }
});
