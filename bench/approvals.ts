/**
 * Target 1 of issue #12: approvals. Sessions parked at review are approved through the API and, side
 * by side in the same run, by a raw Temporal signal (the baseline: what an operator's tool does). For
 * each: request → HeyGen has the message (the simulator's wall-clock receipt), and for the API the
 * response time. All at once (in bursts, taking turns), then one at a time. Each group is approved on a
 * quiet machine: the sessions approved before it have completed. The API runs as its own process.
 */
import { approveSignal } from '../src/contract/session';
import { simulatorSessions, sleep, startStack, stats, until, type BenchContext, type Figure, type Stack, type Stats } from './harness';

const SCENARIO = 'approvals';
// At 1000x thinking takes 10 ms and the render 60 ms: each approved session soon completes, so the next
// group is measured on a quiet machine (not next to the renders the last group started).
const PROMPT = 'Approve me [[sim think=10s generate=1m]]';

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

/** Waits for these sessions' workflows to finish, so what they do next does not load the next measurement. */
async function completed(ctx: BenchContext, ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => ctx.client.workflow.getHandle(id).result()));
}

type Way = 'api' | 'signal';

/** Concurrent bursts per way: one at a time they vary a lot from burst to burst on a shared machine. */
const BURSTS = 2;

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
    // As deployed (`npm run api` beside `npm run worker`). In one process (`npm start`) the API's HTTP
    // work shares the event loop with the worker's activities and the simulator, which slows both ways.
    apiProcess: true,
    env: { SESSION_TIMING: JSON.stringify({ pollInitial: '200ms', pollMax: '1s', videoPollInterval: '1s' }), API_DECISION_WAIT: '30s' },
  });
  const stack: ApprovalStack = Object.assign(base, {
    rawSignal: (id: string) => ctx.client.workflow.getHandle(id).signal(approveSignal, { requestId: `raw-${id}`, by: 'bench' }),
  });
  try {
    const parked = 2 * BURSTS * concurrent + 2 * sequential;
    ctx.log(`approvals: parking ${parked} sessions at review…`);
    const ids = await parkSessions(ctx, stack, parked);
    const oneByOne = ids.slice(2 * BURSTS * concurrent);

    // All at once, each burst on sessions of its own; the baseline and the API take turns going first.
    const all: Record<Way, { sentAt: number; answeredAt: number; status: number; id: string }[]> = { signal: [], api: [] };
    for (let burst = 0; burst < 2 * BURSTS; burst++) {
      const way: Way = [0, 3].includes(burst % 4) ? 'signal' : 'api';
      const group = ids.slice(burst * concurrent, (burst + 1) * concurrent);
      all[way].push(...(await Promise.all(group.map(async (id) => ({ id, ...(await approve(stack, way, id)) })))));
      await receipts(stack, group);
      await completed(ctx, group);
    }
    // One at a time, alternating, so drift hits both alike.
    const single: Record<Way, { sentAt: number; answeredAt: number; status: number; id: string }[]> = { signal: [], api: [] };
    for (const [index, id] of oneByOne.entries()) {
      const way: Way = index % 2 === 0 ? 'signal' : 'api';
      single[way].push({ id, ...(await approve(stack, way, id)) });
      await receipts(stack, [id]);
      await completed(ctx, [id]);
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
