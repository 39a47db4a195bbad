/**
 * What a session costs: workflow history events and HeyGen calls, for a session approved at its first
 * storyboard and per revision round, with our polling (10 s growing to 2 min, reset on every status
 * change) next to a naive fixed 10 s poller, measured side by side in one run.
 *
 * Time is scaled: the simulator and the workflow timing both run SCALE times faster than real time, so
 * a session that would take 20 simulated minutes takes 20 / SCALE minutes; counts do not depend on it.
 *
 *   npm run bench            (writes bench/results/session-cost.json)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../src/service-config';
import { createLogger } from '../src/logging';
import { startSimulator } from '../src/simulator/app';
import { loadSimulatorConfig } from '../src/simulator/config';
import { ensureTemporalCli } from '../src/temporal/cli';
import { connectClient } from '../src/temporal/connection';
import { startDevServer } from '../src/temporal/dev-server';
import { installTemporalRuntime } from '../src/temporal/runtime';
import { startVideoAgentSession } from '../src/temporal/sessions';
import { createVideoAgentWorker } from '../src/worker';
import { approveSignal, sendMessageSignal, stateQuery } from '../src/contract/session';
import type { Timing } from '../src/contract/session';

/**
 * 10x: the shortest wait (10 s) becomes 1 s. Temporal timers below about a second fire late on the dev
 * server, which would make every poller look alike.
 */
const SCALE = Number(process.env.BENCH_SCALE ?? 10);
/** A plausible, if quick, session: 5 minutes of thinking, 3 per revision, 10 of rendering (simulated). */
const SCENARIO = '[[sim think=5m revise=3m generate=10m]]';
const REPEATS = Number(process.env.BENCH_REPEATS ?? 1);

const scaled = (ms: number) => Math.max(1, Math.round(ms / SCALE));
const OUR_TIMING: Partial<Timing> = { pollInitial: scaled(10_000), pollMax: scaled(120_000), pollBackoff: 2, videoPollInterval: scaled(15_000) };
const NAIVE_TIMING: Partial<Timing> = { pollInitial: scaled(10_000), pollMax: scaled(10_000), pollBackoff: 1, videoPollInterval: scaled(10_000) };

interface Sample {
  polling: 'ours' | 'naive';
  revisions: number;
  historyEvents: number;
  heygenCalls: number;
  calls: Record<string, number>;
}

async function main(): Promise<void> {
  const logger = createLogger({ level: 'warn', format: 'json' });
  installTemporalRuntime(logger, { shutdownSignals: [] });
  const cli = await ensureTemporalCli({ logger });
  const server = await startDevServer({ cliPath: cli.path });
  const simulator = await startSimulator(loadSimulatorConfig({ SIMULATOR_PORT: '0', SIMULATOR_TIME_SCALE: String(SCALE), SIMULATOR_CONCURRENCY_LIMIT: '0' }), logger);
  const config = loadConfig({ TEMPORAL_ADDRESS: server.address, HEYGEN_BASE_URL: simulator.url, TEMPORAL_TASK_QUEUE: 'bench' });
  const connection = await NativeConnection.connect({ address: server.address });
  const worker = await createVideoAgentWorker({ config, logger, connection });
  const running = worker.run();
  const client = await connectClient(config);
  const samples: Sample[] = [];

  const runSession = async (polling: Sample['polling'], revisions: number): Promise<Sample> => {
    const handle = await startVideoAgentSession(
      client,
      { prompt: `Benchmark session ${SCENARIO}`, timing: polling === 'ours' ? OUR_TIMING : NAIVE_TIMING },
      { taskQueue: 'bench' },
    );
    const waitForReview = async (count: number) => {
      for (;;) {
        const state = await handle.query(stateQuery);
        if (state.phase === 'reviewing' && state.revisions === count) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    for (let round = 1; round <= revisions; round++) {
      await waitForReview(round);
      await handle.signal(sendMessageSignal, { requestId: `r${round}`, message: `Revision ${round}: tighten the intro` });
    }
    await waitForReview(revisions + 1);
    await handle.signal(approveSignal, { requestId: 'approve' });
    await handle.result();
    const history = await handle.fetchHistory();
    const stats = (await (await fetch(`${simulator.url}/__sim/stats?callback_id=${handle.workflowId}`)).json()) as {
      sessions: { calls: Record<string, number> }[];
    };
    const calls = { create: 1, ...stats.sessions[0]!.calls };
    return {
      polling,
      revisions,
      historyEvents: history.events?.length ?? 0,
      heygenCalls: Object.values(calls).reduce((a, b) => a + b, 0),
      calls,
    };
  };

  try {
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      // Side by side: every variant runs at the same time on the same machine.
      const variants = [0, 1, 2].flatMap((revisions) => [runSession('ours', revisions), runSession('naive', revisions)]);
      samples.push(...(await Promise.all(variants)));
    }
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await client.connection.close();
    await simulator.close();
    await server.stop();
  }

  const mean = (polling: Sample['polling'], revisions: number, field: 'historyEvents' | 'heygenCalls') => {
    const values = samples.filter((s) => s.polling === polling && s.revisions === revisions).map((s) => s[field]);
    return values.reduce((a, b) => a + b, 0) / values.length;
  };
  const rows = (['ours', 'naive'] as const).map((polling) => ({
    polling,
    noFeedback: { historyEvents: mean(polling, 0, 'historyEvents'), heygenCalls: mean(polling, 0, 'heygenCalls') },
    perRevisionRound: {
      historyEvents: (mean(polling, 2, 'historyEvents') - mean(polling, 0, 'historyEvents')) / 2,
      heygenCalls: (mean(polling, 2, 'heygenCalls') - mean(polling, 0, 'heygenCalls')) / 2,
    },
  }));
  const [ours, naive] = rows as [(typeof rows)[0], (typeof rows)[0]];
  const report = {
    when: new Date().toISOString(),
    scale: SCALE,
    scenario: SCENARIO,
    repeats: REPEATS,
    rows,
    ratios: {
      heygenCallsNoFeedback: ours.noFeedback.heygenCalls / naive.noFeedback.heygenCalls,
      historyEventsNoFeedback: ours.noFeedback.historyEvents / naive.noFeedback.historyEvents,
    },
    samples,
  };
  process.stdout.write(`session cost (simulated ${SCENARIO}, time x${SCALE}, ${REPEATS} repeats)\n`);
  process.stdout.write(`polling  | no feedback: events  calls | per revision round: events  calls\n`);
  for (const row of rows) {
    process.stdout.write(
      `${row.polling.padEnd(8)} | ${row.noFeedback.historyEvents.toFixed(0).padStart(19)} ${row.noFeedback.heygenCalls.toFixed(1).padStart(6)} | ${row.perRevisionRound.historyEvents.toFixed(0).padStart(26)} ${row.perRevisionRound.heygenCalls.toFixed(1).padStart(6)}\n`,
    );
  }
  process.stdout.write(
    `ratio ours/naive, no feedback: HeyGen calls ${report.ratios.heygenCallsNoFeedback.toFixed(2)}, history events ${report.ratios.historyEventsNoFeedback.toFixed(2)}\n`,
  );
  const out = path.join(__dirname, 'results', 'session-cost.json');
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`written to ${path.relative(process.cwd(), out)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
