/**
 * Targets 3 and 4 of issue #12: what a session costs in HeyGen calls and workflow history events, with
 * no feedback and per revision round, with polling only and with webhooks, next to a naive fixed 10 s
 * poller in the same run; and a session with many revisions (continue-as-new keeps each run small).
 *
 * Time is scaled: the simulator and the workflow timing run 10 (quick: 20) times faster than real time;
 * lags are reported multiplied back to real time.
 */
import type { SessionState, Timing } from '../src/contract/session';
import { approveSignal, sendMessageSignal, stateQuery } from '../src/contract/session';
import { startVideoAgentSession, type SessionHandle } from '../src/temporal/sessions';
import { simulatorSessions, sleep, startStack, stats, type BenchContext, type Figure, type SimSessionStats, type Stack } from './harness';

const SCENARIO = 'cost';
/** 10x: the shortest wait (10 s) becomes 1 s (the dev server fires shorter timers late); 20x in a quick run. */
const FULL_SCALE = 10;
const QUICK_SCALE = 20;
/** 5 minutes of thinking, 3 per revision, 10 of rendering (simulated). */
const PROMPT = 'Benchmark session [[sim think=5m revise=3m generate=10m]]';

/** The defaults (src/contract/session.ts), scaled; the naive poller reads every 10 s. */
const ourTiming = (scale: number): Partial<Timing> => ({
  pollInitial: 10_000 / scale,
  pollMax: 120_000 / scale,
  pollBackoff: 2,
  videoPollInterval: 15_000 / scale,
  pollWhileCalledBack: 300_000 / scale,
});
const naiveTiming = (scale: number): Partial<Timing> => ({ pollInitial: 10_000 / scale, pollMax: 10_000 / scale, pollBackoff: 1, videoPollInterval: 10_000 / scale });

type Variant = 'polling' | 'webhooks' | 'naive';

interface Sample {
  variant: Variant;
  revisions: number;
  historyEvents: number;
  runs: number;
  heygenCalls: number;
  /** HeyGen calls made while the session was parked at review (none expected). */
  callsWhileParked: number;
  /** From HeyGen finishing a step to the workflow knowing it, in real-time-equivalent ms: storyboards, and the render. */
  lags: { storyboard: number[]; render: number[] };
}

/**
 * Detection lags of one session: each time the workflow entered `reviewing` against the step HeyGen
 * finished just before (HeyGen sends no webhook for a storyboard: polling finds it), and its learning
 * of the finished render against when the video was ready (a webhook, where HeyGen calls back).
 */
function detectionLags(state: SessionState, heygen: SimSessionStats, scale: number): Sample['lags'] {
  const steps = heygen.steps.map((step) => Date.parse(step.at));
  const storyboard: number[] = [];
  for (const entry of state.phaseHistory) {
    const at = Date.parse(entry.at);
    if (entry.phase !== 'reviewing') continue;
    const finished = Math.max(...steps.filter((step) => step <= at));
    if (Number.isFinite(finished)) storyboard.push((at - finished) * scale);
  }
  const learned = state.phaseHistory.find((entry) => entry.phase === 'finalizing' || entry.phase === 'completed');
  const ready = heygen.videos_ready_at.at(-1);
  const render = learned && ready ? [Math.max(0, Date.parse(learned.at) - Date.parse(ready)) * scale] : [];
  return { storyboard, render };
}

async function waitForReview(handle: SessionHandle, count: number): Promise<void> {
  for (;;) {
    const state = await handle.query(stateQuery);
    if (state.phase === 'reviewing' && state.revisions === count) return;
    await sleep(50);
  }
}

async function historyOf(ctx: BenchContext, workflowId: string): Promise<{ events: number; runs: number }> {
  // Every run of the workflow (continue-as-new starts a new history): the newest run's events, and how many runs.
  const runs = [];
  for await (const execution of ctx.client.workflow.list({ query: `WorkflowId="${workflowId}"` })) runs.push(execution);
  const histories = await Promise.all(runs.map((run) => ctx.client.workflow.getHandle(workflowId, run.runId).fetchHistory()));
  return { events: Math.max(...histories.map((h) => h.events?.length ?? 0)), runs: runs.length };
}

async function runSession(ctx: BenchContext, stack: Stack, variant: Variant, revisions: number, scale: number): Promise<Sample> {
  const handle = await startVideoAgentSession(
    ctx.client,
    { prompt: PROMPT, timing: variant === 'naive' ? naiveTiming(scale) : ourTiming(scale) },
    { taskQueue: stack.config.temporal.taskQueue },
  );
  const callsNow = async () => {
    const [session] = (await simulatorSessions(stack.simulatorUrl)).filter((s) => s.callback_id === handle.workflowId);
    return session ? Object.values(session.calls).reduce((a, b) => a + b, 0) : 0;
  };
  let callsWhileParked = 0;
  // Parked for a while (as a person reviewing would be): no HeyGen call should happen meanwhile.
  const park = async () => {
    const before = await callsNow();
    await sleep(60_000 / scale);
    callsWhileParked += (await callsNow()) - before;
  };
  for (let round = 1; round <= revisions; round++) {
    await waitForReview(handle, round);
    if (round === 1) await park();
    await handle.signal(sendMessageSignal, { requestId: `r${round}`, message: `Revision ${round}: tighten the intro` });
  }
  await waitForReview(handle, revisions + 1);
  if (revisions === 0) await park();
  await handle.signal(approveSignal, { requestId: 'approve' });
  const state = await handle.result();
  const { events, runs } = await historyOf(ctx, handle.workflowId);
  const [heygen] = (await simulatorSessions(stack.simulatorUrl)).filter((s) => s.callback_id === handle.workflowId);
  // Where the calls go, for the reader of the bench's output (the storyboard's images are one call each).
  ctx.log(`  ${variant}, ${revisions} revisions: HeyGen calls by endpoint ${JSON.stringify({ create: 1, ...heygen!.calls })}`);
  return { variant, revisions, historyEvents: events, runs, heygenCalls: 1 + (await callsNow()), callsWhileParked, lags: detectionLags(state, heygen!, scale) };
}

export async function costScenario(ctx: BenchContext): Promise<Figure[]> {
  const scale = ctx.quick ? QUICK_SCALE : FULL_SCALE;
  const stacks = {
    polling: await startStack(ctx, `${SCENARIO}-polling`, { timeScale: scale }),
    webhooks: await startStack(ctx, `${SCENARIO}-webhooks`, { timeScale: scale, webhooks: true }),
    naive: await startStack(ctx, `${SCENARIO}-naive`, { timeScale: scale }),
  };
  const samples: Sample[] = [];
  try {
    const repeats = ctx.quick ? 1 : 3;
    for (let repeat = 0; repeat < repeats; repeat++) {
      // Side by side: every variant runs at the same time on the same machine.
      const variants = [0, 2].flatMap((revisions) => (['polling', 'webhooks', 'naive'] as const).map((variant) => runSession(ctx, stacks[variant], variant, revisions, scale)));
      samples.push(...(await Promise.all(variants)));
    }
  } finally {
    await Promise.all(Object.values(stacks).map((stack) => stack.close()));
  }

  const of = (variant: Variant, revisions: number, field: 'historyEvents' | 'heygenCalls' | 'callsWhileParked') =>
    samples.filter((s) => s.variant === variant && s.revisions === revisions).map((s) => s[field]);
  const perRound = (variant: Variant, field: 'historyEvents' | 'heygenCalls') => {
    const zero = stats(of(variant, 0, field)).median;
    return of(variant, 2, field).map((value) => (value - zero) / 2);
  };
  const figure = (name: string, unit: string, value: number[], baseline: number[], target: string, limit: number): Figure => {
    const s = stats(value);
    return { scenario: SCENARIO, name, unit, value: s, baseline: { name: 'naive 10 s poller', value: stats(baseline) }, target: { text: target, actual: s.median, met: s.median <= limit } };
  };
  const lagFigure = (variant: Variant, step: 'storyboard' | 'render', target: string, limit: number): Figure => {
    const value = stats(samples.filter((s) => s.variant === variant).flatMap((s) => s.lags[step]));
    const naive = stats(samples.filter((s) => s.variant === 'naive').flatMap((s) => s.lags[step]));
    return {
      scenario: SCENARIO,
      name: `detection lag, ${step === 'storyboard' ? 'a storyboard' : 'the end of the render'} (HeyGen done → the workflow knows), ${variant === 'polling' ? 'polling only' : 'with webhooks'}, real-time equivalent`,
      unit: 'ms',
      value,
      baseline: { name: 'naive 10 s poller', value: naive },
      target: { text: `median ${target}`, actual: value.median, met: value.median <= limit },
    };
  };
  return [
    figure('HeyGen calls, no-feedback session, polling only', 'calls', of('polling', 0, 'heygenCalls'), of('naive', 0, 'heygenCalls'), '≤ 15', 15),
    figure('HeyGen calls, no-feedback session, with webhooks', 'calls', of('webhooks', 0, 'heygenCalls'), of('naive', 0, 'heygenCalls'), '≤ 8', 8),
    figure('HeyGen calls per revision round, polling only', 'calls', perRound('polling', 'heygenCalls'), perRound('naive', 'heygenCalls'), '≤ 6', 6),
    figure('HeyGen calls while parked at review (a simulated minute)', 'calls', [...of('polling', 0, 'callsWhileParked'), ...of('polling', 2, 'callsWhileParked')], of('naive', 0, 'callsWhileParked'), '0', 0),
    lagFigure('polling', 'storyboard', '≤ 15 s', 15_000),
    lagFigure('polling', 'render', '≤ 15 s', 15_000),
    lagFigure('webhooks', 'render', '≤ 5 s', 5_000),
    figure('history events, no-feedback session', 'events', of('polling', 0, 'historyEvents'), of('naive', 0, 'historyEvents'), '≤ 150', 150),
    figure('history events per revision round', 'events', perRound('polling', 'historyEvents'), perRound('naive', 'historyEvents'), '≤ 30', 30),
  ];
}
