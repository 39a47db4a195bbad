/**
 * Issue #22, defect 1: a slow notification receiver must not stall other tenants. The receiver answers
 * 200 and then trickles one byte every 3 s, so a delivery bounded only by the socket's idle timeout never
 * ends. Eight sessions of one tenant notify it while the worker runs at most 8 activities at once; a
 * session of another tenant must reach `reviewing` as fast as it does without them (within 2x).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SessionInput } from '../../src/contract/session';
import type { SessionHandle } from '../../src/temporal/sessions';
import { TOKENS } from '../harness/api';
import { startSessionHarness, type SessionHarness } from '../harness/sessions';
import { eventually } from '../harness/wait';
import { report } from './support';

const SECRET = `whsec_${Buffer.from('a notification secret of 32 bytes').toString('base64')}`;
const SLOTS = 8;
const ATTACKERS = 8;
const TRICKLE_MS = 3_000;

/** Answers 200 at once, then one byte every 3 s for as long as the client listens. */
class TricklingReceiver {
  requests = 0;
  /** The most requests held open at once. */
  maxOpen = 0;
  readonly open = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        this.requests++;
        this.open.add(response);
        this.maxOpen = Math.max(this.maxOpen, this.open.size);
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.write('.');
        const timer = setInterval(() => response.write('.'), TRICKLE_MS);
        this.timers.add(timer);
        response.on('close', () => {
          clearInterval(timer);
          this.timers.delete(timer);
          this.open.delete(response);
        });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const response of this.open) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Start to `reviewing` of one ordinary session of another tenant; undefined if it did not get there within `limitMs`. */
async function timeToReview(h: SessionHarness, label: string, limitMs: number): Promise<number | undefined> {
  const started = Date.now();
  const handle = await h.start({ prompt: `Other tenant, ${label}`, tenant: 'globex', requestedBy: TOKENS.globex.name });
  try {
    await h.waitForPhase(handle, 'reviewing', limitMs);
    return Date.now() - started;
  } catch {
    return undefined;
  } finally {
    await handle.cancel().catch(() => undefined);
  }
}

test('a receiver trickling a byte every 3 s to 8 sessions does not slow another tenant’s session (WORKER_MAX_CONCURRENT_ACTIVITIES=8)', async () => {
  const receiver = await new TricklingReceiver().start();
  const h = await startSessionHarness({
    env: {
      WORKER_MAX_CONCURRENT_ACTIVITIES: String(SLOTS),
      NOTIFY_ALLOW_PRIVATE: 'true',
      API_TOKENS: JSON.stringify([{ ...TOKENS.acme, notifySecret: SECRET }, TOKENS.globex]),
    },
  });
  const attackers: SessionHandle[] = [];
  try {
    const before: number[] = [];
    for (let i = 0; i < 3; i++) before.push((await timeToReview(h, `before ${i + 1}`, 120_000))!);
    const baseline = median(before);

    const attack: SessionInput = {
      prompt: 'Acme, notifying a slow receiver',
      tenant: 'acme',
      requestedBy: TOKENS.acme.name,
      notify: { url: receiver.url },
      // Retried from 1 s: every failed attempt comes back soon, as hard as a receiver can push.
      timing: { notifyRetryInitial: '1s' },
    };
    for (let i = 0; i < ATTACKERS; i++) attackers.push(await h.start({ ...attack, prompt: `${attack.prompt} ${i + 1}` }));
    // The attack is on: every session sent its storyboard notification, and the receiver holds them.
    await eventually(() => receiver.requests >= ATTACKERS, { timeoutMs: 120_000, what: `${ATTACKERS} notifications at the receiver (got ${receiver.requests})` });

    // Generous: a stalled worker shows as "never", well past twice the baseline.
    const limit = Math.max(30_000, baseline * 10);
    const during: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) during.push(await timeToReview(h, `during ${i + 1}`, limit));
    const reached = during.filter((t): t is number => t !== undefined);
    const attackMedian = reached.length === during.length ? median(reached) : Number.POSITIVE_INFINITY;

    report(
      `slow receiver: another tenant's session to reviewing, before ${before.map((t) => `${t} ms`).join(', ')} (median ${baseline} ms); ` +
        `with ${ATTACKERS} sessions notifying a receiver trickling a byte every ${TRICKLE_MS / 1000} s: ` +
        `${during.map((t) => (t === undefined ? `not within ${limit} ms` : `${t} ms`)).join(', ')} ` +
        `(median ${Number.isFinite(attackMedian) ? `${attackMedian} ms` : 'never'}, ${(attackMedian / baseline).toFixed(2)}x); ` +
        `receiver: ${receiver.requests} requests, at most ${receiver.maxOpen} held open at once (the tenant's share: ${h.config.notify.maxPerTenant})`,
    );
    expect(reached).toHaveLength(during.length);
    expect(attackMedian / baseline).toBeLessThanOrEqual(2);
    // The slow receiver held no more attempts at once than its tenant's share.
    expect(receiver.maxOpen).toBeLessThanOrEqual(h.config.notify.maxPerTenant);
  } finally {
    await Promise.all(attackers.map((handle) => handle.terminate().catch(() => undefined)));
    await receiver.close();
    await h.close();
  }
});
