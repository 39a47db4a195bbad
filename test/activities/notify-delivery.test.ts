/**
 * Issue #22, defect 1, at the activity: one delivery attempt is over by its deadline whatever the receiver
 * does (a 200 followed by a body trickled a byte every 3 s, or no answer at all), stops when Temporal
 * cancels it, and takes a place in the worker's share of notifications, per tenant and in total, or is
 * refused at once. Real HTTP to receivers on 127.0.0.1.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createNotifyActivities, type NotificationAttempt } from '../../src/activities/notify';
import { NotificationGate } from '../../src/activities/notify-gate';
import { testLogger } from '../harness/temporal';
import { eventually } from '../harness/wait';

const SECRET = `whsec_${Buffer.from('a notification secret of 32 bytes').toString('base64')}`;

/** `trickle`: 200, then a byte every 3 s; `silent`: reads the request and never answers. */
class SlowReceiver {
  open = 0;
  closed = 0;
  private readonly held = new Set<ServerResponse>();
  private server!: Server;
  url = '';

  constructor(private readonly mode: 'trickle' | 'silent') {}

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        this.open++;
        this.held.add(response);
        const timer = this.mode === 'trickle' ? setInterval(() => response.write('.'), 3_000) : undefined;
        if (this.mode === 'trickle') response.writeHead(200).write('.');
        response.on('close', () => {
          clearInterval(timer);
          this.held.delete(response);
          this.open--;
          this.closed++;
        });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  async close(): Promise<void> {
    for (const response of this.held) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const receivers: SlowReceiver[] = [];
const receiver = async (mode: 'trickle' | 'silent') => {
  const started = await new SlowReceiver(mode).start();
  receivers.push(started);
  return started;
};
afterAll(() => Promise.all(receivers.map((r) => r.close())));

const attemptTo = (url: string, extra: Partial<NotificationAttempt> = {}): NotificationAttempt => ({ url, id: 'evt-1', body: '{"type":"session.queued"}', signedBy: 'acme-tool', ...extra });
const activities = (options: { timeoutMs?: number; gate?: NotificationGate } = {}) =>
  createNotifyActivities({ secrets: new Map([['acme-tool', SECRET]]), allowPrivate: true, logger: testLogger, ...options });

/** Settles `promise` or gives up after `ms`, so a hanging attempt fails the test with a message. */
async function within<T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown; ms: number } | 'still running'> {
  const started = Date.now();
  const settled = promise.then(
    (value) => ({ value, ms: Date.now() - started }),
    (error: unknown) => ({ error, ms: Date.now() - started }),
  );
  return Promise.race([settled, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms))]);
}

test('a 200 whose body trickles a byte every 3 s ends at the deadline, with the status it gave', async () => {
  const trickle = await receiver('trickle');
  const outcome = await within(activities({ timeoutMs: 2_000 }).deliverNotification(attemptTo(trickle.url)), 15_000);
  console.log(`trickling receiver, 2 s deadline: ${outcome === 'still running' ? 'still running after 15 s' : `settled after ${outcome.ms} ms with ${JSON.stringify(outcome.value ?? String(outcome.error))}`}`);
  expect(outcome).not.toBe('still running');
  expect(outcome).toMatchObject({ value: { status: 200 } });
  await eventually(() => trickle.open === 0, { what: 'the connection closed' });
});

test('a receiver that never answers fails the attempt at the deadline, as retryable', async () => {
  const silent = await receiver('silent');
  const outcome = await within(activities({ timeoutMs: 1_500 }).deliverNotification(attemptTo(silent.url)), 15_000);
  console.log(`silent receiver, 1.5 s deadline: ${outcome === 'still running' ? 'still running after 15 s' : `failed after ${outcome.ms} ms: ${String(outcome.error)}`}`);
  expect(outcome).not.toBe('still running');
  expect((outcome as { error: unknown }).error).toMatchObject({ type: 'NotificationFailed', nonRetryable: false, message: 'no answer: ETIMEDOUT' });
  expect((outcome as { ms: number }).ms).toBeLessThan(10_000);
});

test('an attempt never outlives its activity: it ends before the start-to-close timeout, heartbeating meanwhile', async () => {
  const trickle = await receiver('trickle');
  const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 3_000, currentAttemptScheduledTimestampMs: Date.now() });
  let heartbeats = 0;
  env.on('heartbeat', () => heartbeats++);
  // The worker's own deadline is far off: the activity's timeout comes first.
  const outcome = await within(env.run(activities({ timeoutMs: 25_000 }).deliverNotification, attemptTo(trickle.url)), 15_000);
  console.log(`3 s activity timeout, 25 s deadline: ${outcome === 'still running' ? 'still running after 15 s' : `settled after ${outcome.ms} ms`}, ${heartbeats} heartbeats`);
  expect(outcome).not.toBe('still running');
  expect((outcome as { ms: number }).ms).toBeLessThan(3_000);
  expect(heartbeats).toBeGreaterThanOrEqual(1);
});

test('a cancelled attempt stops at once and closes its connection', async () => {
  const silent = await receiver('silent');
  const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 30_000, currentAttemptScheduledTimestampMs: Date.now() });
  const running = env.run(activities({ timeoutMs: 25_000 }).deliverNotification, attemptTo(silent.url));
  await eventually(() => silent.open === 1, { what: 'the request at the receiver' });
  env.cancel();
  const outcome = await within(running, 10_000);
  console.log(`cancelled after the request arrived: ${outcome === 'still running' ? 'still running after 10 s' : `settled ${outcome.ms} ms after the cancel: ${String(outcome.error)}`}`);
  expect(outcome).not.toBe('still running');
  expect((outcome as { ms: number }).ms).toBeLessThan(2_000);
  await eventually(() => silent.closed === 1, { what: 'the connection closed' });
});

test("an attempt over its tenant's share, or the worker's, is refused at once as retryable; another tenant's goes", async () => {
  const silent = await receiver('silent');
  const gate = new NotificationGate(2, 1);
  const notify = activities({ timeoutMs: 2_000, gate });
  const first = notify.deliverNotification(attemptTo(silent.url, { tenant: 'acme' }));
  await eventually(() => silent.open === 1, { what: 'the first request at the receiver' });
  const sameTenant = await within(notify.deliverNotification(attemptTo(silent.url, { tenant: 'acme' })), 1_000);
  const other = notify.deliverNotification(attemptTo(silent.url, { tenant: 'globex' }));
  await eventually(() => silent.open === 2, { what: "the other tenant's request at the receiver" });
  const overTotal = await within(notify.deliverNotification(attemptTo(silent.url, { tenant: 'initech' })), 1_000);
  console.log(`gate 2 in total, 1 per tenant: same tenant ${String((sameTenant as { error?: unknown }).error)}; a third tenant ${String((overTotal as { error?: unknown }).error)}`);
  expect(sameTenant).toMatchObject({ error: { type: 'NotificationBusy', nonRetryable: false } });
  expect(overTotal).toMatchObject({ error: { type: 'NotificationBusy', nonRetryable: false } });
  expect(silent.open).toBe(2);
  await Promise.allSettled([first, other]);
  // Places are given back whatever the outcome.
  expect(gate.size).toBe(0);
});
