/**
 * The dev-server module against the real `temporal server start-dev`: start, readiness, Web UI,
 * clean stop, a clear error on a taken port, and no orphan when the parent is killed.
 */
import net from 'node:net';
import { Connection } from '@temporalio/client';
import { DevServerError, startDevServer } from '../../src/temporal/dev-server';
import { SEARCH_ATTRIBUTES } from '../../src/contract/search-attributes';
import { portIsFree, processGroupAlive, startProcess, tsNode } from '../harness/processes';
import { eventually } from '../harness/wait';

const cliPath = process.env.TEMPORAL_CLI_PATH!;

test('starts headless, answers gRPC with our search attributes registered, and stops without leftovers', async () => {
  const server = await startDevServer({ cliPath, namespace: 'vao-start-stop' });
  try {
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.uiUrl).toBeUndefined();
    const connection = await Connection.connect({ address: server.address });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toMatch(/^\d+\.\d+/);
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'vao-start-stop' });
      for (const key of SEARCH_ATTRIBUTES) {
        expect(customAttributes?.[key.name]).toBeDefined();
      }
    } finally {
      await connection.close();
    }
    expect(processGroupAlive(server.pgid)).toBe(true);
  } finally {
    await server.stop();
  }
  expect(await server.exited).toEqual({ code: 0 });
  expect(processGroupAlive(server.pgid)).toBe(false);
  expect(await portIsFree(server.port)).toBe(true);
  await server.stop(); // idempotent
});

test('serves the Web UI when asked', async () => {
  const server = await startDevServer({ cliPath, ui: true });
  try {
    expect(server.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(server.uiUrl!);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/<html/i);
  } finally {
    await server.stop();
  }
});

test('a taken port is reported as such, naming the port', async () => {
  const sockets = new Set<net.Socket>();
  const blocker = net.createServer((socket) => sockets.add(socket));
  const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
  try {
    const error = await startDevServer({ cliPath, port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DevServerError);
    expect(error).toMatchObject({ failure: 'port_in_use', port });
    expect((error as Error).message).toContain(`Port ${port} is already in use`);
  } finally {
    for (const socket of sockets) socket.destroy();
    blocker.close();
  }
});

test('a binary that is not a Temporal CLI fails start-up with its output', async () => {
  const error = await startDevServer({ cliPath: '/bin/false', startTimeoutMs: 5_000 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DevServerError);
  expect(error).toMatchObject({ failure: 'exited' });
});

test('the server does not outlive a parent killed with SIGKILL', async () => {
  const parent = startProcess(...tsNode(require.resolve('../fixtures/processes/dev-server-child.ts')), { ...process.env });
  const line = await parent.waitForLine(/"pgid"/);
  const { pgid, port } = JSON.parse(line) as { pgid: number; port: number };
  expect(processGroupAlive(pgid)).toBe(true);

  parent.child.kill('SIGKILL');
  await parent.exited;
  await eventually(() => !processGroupAlive(pgid), { timeoutMs: 20_000, what: 'the orphaned dev server to exit' });
  await eventually(() => portIsFree(port), { timeoutMs: 5_000, what: 'the port to be released' });
});

test('a port taken by another Temporal server is reported, not mistaken for our own server', async () => {
  const other = await startDevServer({ cliPath });
  try {
    const error = await startDevServer({ cliPath, port: other.port }).catch((e: unknown) => e);
    expect(error).toMatchObject({ failure: 'port_in_use', port: other.port });
  } finally {
    await other.stop();
  }
});
