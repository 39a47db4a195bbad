/**
 * Target 1 of issue #12: approvals. Sessions parked at review are approved through the API and, side
 * by side in the same run, by a raw Temporal signal (the baseline: what an operator's tool does). For
 * each: request → HeyGen has the message (the simulator's wall-clock receipt), and for the API the
 * response time. Once all at once, then one at a time.
 */
import { approveSignal } from '../src/contract/session';
import { simulatorSessions, sleep, startStack, stats, until, type BenchContext, type Figure, type Stack, type Stats } from './harness';

const SCENARIO = 'approvals';
// Thinking takes 10 ms at 1000x; the render takes an hour of simulated time, so nothing finishes.
const PROMPT = 'Approve me [[sim think=10s generate=1h]]';

/** Starts `count` sessions through the API and waits until `total` (these and earlier ones) are parked at review. */
export async function parkSessions(ctx: BenchContext, stack: Stack, count: number, prompt = PROMPT, total = count, wave = count): Promise<string[]> {
  const ids: string[] = [];
  const query = `TaskQueue="${stack.config.temporal.taskQueue}" AND VideoAgentStatus="reviewing"`;
  const before = total - count;
  // In waves (each parked before the next starts): thousands started at once swamp a dev server on SQLite.
  for (let waveStart = 0; waveStart < count; waveStart += wave) {
    const waveEnd = Math.min(count, waveStart + wave);
    for (let start = waveStart; start < waveEnd; start += 20) {
      const batch = await Promise.all(Array.from({ length: Math.min(20, waveEnd - start) }, () => stack.call<{ id: string }>('POST', '/v1/sessions', { prompt })));
      ids.push(...batch.map((r) => r.body.id));
    }
    const parked = before + waveEnd;
    await until(`${parked} sessions parked at review`, async () => (await ctx.client.workflow.count(query)).count >= parked, 30 * 60_000, 500);
    if (wave < count) ctx.log(`  ${parked} parked`);
  }
  // Parked: each has read its storyboard; let the last activities settle before measuring.
  await sleep(1_000);
  return ids;
}

/** When HeyGen received the first message of each workflow's session (wall clock, ms). */
async function receipts(stack: Stack, ids: string[]): Promise<Map<string, number>> {
  const wanted = new Set(ids);
  const found = new Map<string, number>();
  await until('HeyGen to receive every approval', async () => {
    for (const session of await simulatorSessions(stack.simulatorUrl)) {
      if (session.callback_id && wanted.has(session.callback_id) && session.messages[0]) found.set(session.callback_id, Date.parse(session.messages[0].at));
    }
    return found.size === wanted.size;
  }, 120_000, 100);
  return found;
}

type Way = 'api' | 'signal';

type ApprovalStack = Stack & { rawSignal: (id: string) => Promise<void> };

async function approve(stack: ApprovalStack, way: Way, id: string): Promise<{ sentAt: number; answeredAt: number; status: number }> {
  const sentAt = Date.now();
  if (way === 'api') {
    const { status } = await stack.call('POST', `/v1/sessions/${id}/approve`, {});
    return { sentAt, answeredAt: Date.now(), status };
  }
  await stack.rawSignal(id);
  return { sentAt, answeredAt: Date.now(), status: 200 };
}

export async function approvalsScenario(ctx: BenchContext): Promise<Figure[]> {
  const concurrent = ctx.smoke ? 4 : ctx.quick ? 30 : 100;
  const sequential = ctx.smoke ? 2 : ctx.quick ? 10 : 20;
  const base = await startStack(ctx, SCENARIO, {
    timeScale: 1000,
    env: { SESSION_TIMING: JSON.stringify({ pollInitial: '200ms', pollMax: '1s', videoPollInterval: '1s' }), API_DECISION_WAIT: '30s' },
  });
  const stack: ApprovalStack = Object.assign(base, {
    rawSignal: (id: string) => ctx.client.workflow.getHandle(id).signal(approveSignal, { requestId: `raw-${id}`, by: 'bench' }),
  });
  try {
    ctx.log(`approvals: parking ${2 * concurrent + 2 * sequential} sessions at review…`);
    const ids = await parkSessions(ctx, stack, 2 * concurrent + 2 * sequential);
    const groups = { signal: ids.slice(0, concurrent), api: ids.slice(concurrent, 2 * concurrent) };
    const oneByOne = ids.slice(2 * concurrent);

    // All at once: the baseline first, then the API, each on sessions of its own.
    const all: Record<Way, { sentAt: number; answeredAt: number; status: number; id: string }[]> = { signal: [], api: [] };
    for (const way of ['signal', 'api'] as const) {
      all[way] = await Promise.all(groups[way].map(async (id) => ({ id, ...(await approve(stack, way, id)) })));
      await receipts(stack, groups[way]);
    }
    // One at a time, alternating, so drift hits both alike.
    const single: Record<Way, { sentAt: number; answeredAt: number; status: number; id: string }[]> = { signal: [], api: [] };
    for (const [index, id] of oneByOne.entries()) {
      const way: Way = index % 2 === 0 ? 'signal' : 'api';
      single[way].push({ id, ...(await approve(stack, way, id)) });
      await receipts(stack, [id]);
    }

    const received = await receipts(stack, ids);
    const receiptMs = (rows: { id: string; sentAt: number }[]) => rows.map((r) => received.get(r.id)! - r.sentAt);
    const responseMs = (rows: { sentAt: number; answeredAt: number }[]) => rows.map((r) => r.answeredAt - r.sentAt);
    const refused = [...all.api, ...single.api].filter((r) => r.status !== 200).length;
    if (refused) ctx.log(`approvals: ${refused} API approvals did not answer 200`);

    /** A figure held to a target on the difference (or ratio) of its median and its baseline's. */
    const figure = (name: string, value: Stats, baseline: { name: string; value: Stats }, target: string, actual: (v: number, b: number) => number, limit: number): Figure => ({
      scenario: SCENARIO,
      name,
      unit: 'ms',
      value,
      baseline,
      target: { text: target, actual: actual(value.median, baseline.value.median), met: actual(value.median, baseline.value.median) <= limit },
    });
    const ratio = (v: number, b: number) => v / b;
    const over = (v: number, b: number) => v - b;
    const receipt = (rows: { id: string; sentAt: number }[]) => stats(receiptMs(rows));
    const raw = (rows: { id: string; sentAt: number }[]) => ({ name: 'raw Temporal signal', value: receipt(rows) });
    const heygen = (rows: { id: string; sentAt: number }[]) => ({ name: 'HeyGen receipt (API)', value: receipt(rows) });
    return [
      figure(`${concurrent} concurrent approvals: request → HeyGen has it (API)`, receipt(all.api), raw(all.signal), 'median ≤ 1.1 × raw signal', ratio, 1.1),
      figure(`${concurrent} concurrent approvals: API response`, stats(responseMs(all.api)), heygen(all.api), 'median ≤ HeyGen receipt + 50 ms', over, 50),
      figure('one at a time: request → HeyGen has it (API)', receipt(single.api), raw(single.signal), 'median ≤ raw signal + 10 ms', over, 10),
      figure('one at a time: API response', stats(responseMs(single.api)), heygen(single.api), 'median ≤ HeyGen receipt + 50 ms', over, 50),
    ];
  } finally {
    await stack.close();
  }
}
