/**
 * `npm run api` as a process: it will not run open, names a taken port, serves, and stops on SIGTERM.
 */
import net from 'node:net';
import path from 'node:path';
import { webhookHeaders } from '../../src/contract/heygen-webhooks';
import { DEFAULT_SIMULATOR_WEBHOOK_SECRET } from '../../src/contract/simulator';
import { findFreePort } from '../../src/temporal/dev-server';
import { TOKENS } from '../harness/api';
import { PROJECT_ROOT, startProcess, tsNode } from '../harness/processes';

const API = path.join(PROJECT_ROOT, 'src', 'api', 'main.ts');
const env = (overrides: NodeJS.ProcessEnv) => {
  const result: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: 'json', ...overrides };
  for (const key of ['API_TOKENS', 'API_TOKENS_FILE', 'HEYGEN_API_KEY', 'HEYGEN_WEBHOOK_SECRET', 'HEYGEN_WEBHOOK_URL'] as const) if (!(key in overrides)) delete result[key];
  return result;
};

test('refuses to start without tokens', async () => {
  const run = startProcess(...tsNode(API), env({ PORT: String(await findFreePort()) }));
  expect((await run.exited).code).toBe(1);
  expect(run.output()).toContain('No API tokens are configured. Set API_TOKENS');
  expect(run.output()).not.toMatch(/^\s+at /m);
});

test('refuses to start when HeyGen is to call back (HEYGEN_WEBHOOK_URL) but no secret verifies it', async () => {
  const run = startProcess(
    ...tsNode(API),
    env({ PORT: String(await findFreePort()), API_TOKENS: JSON.stringify([TOKENS.admin]), HEYGEN_WEBHOOK_URL: 'https://vao.example.com/v1/webhooks/heygen' }),
  );
  expect((await run.exited).code).toBe(1);
  expect(run.output()).toMatch(/HEYGEN_WEBHOOK_SECRET: HEYGEN_WEBHOOK_URL is set, so HeyGen calls this API back, but there is no secret/);
  expect(run.output()).not.toMatch(/^\s+at /m);
});

test('without HEYGEN_WEBHOOK_SECRET there is no webhook route, not even with the simulator\'s public secret (no HEYGEN_API_KEY)', async () => {
  const port = await findFreePort();
  const run = startProcess(...tsNode(API), env({ PORT: String(port), API_TOKENS: JSON.stringify([TOKENS.admin]) }));
  try {
    await run.waitForLine(/API listening on/);
    const rawBody = JSON.stringify({ event_type: 'video_agent.success', event_data: { callback_id: 'session-x' } });
    const response = await fetch(`http://127.0.0.1:${port}/v1/webhooks/heygen`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...webhookHeaders(rawBody, DEFAULT_SIMULATOR_WEBHOOK_SECRET, 'evt_1', Math.floor(Date.now() / 1000)) },
      body: rawBody,
    });
    expect(response.status).toBe(404);
    expect(run.output()).toContain('HeyGen webhooks are off (HEYGEN_WEBHOOK_SECRET is not set)');
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
  }
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
