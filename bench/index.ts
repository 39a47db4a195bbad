/**
 * `npm run bench`: every scenario of issue #12, measured side by side with its baseline in one run, each
 * figure held to its target. `npm run bench -- --quick` runs them at reduced sizes. Writes
 * bench/results/latest.json and bench/results/latest.md.
 *
 *   npm run bench [-- --quick] [--only approvals,cost] [--temporal-port 17233]
 */
import os from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { approvalsScenario } from './approvals';
import { costScenario } from './cost';
import { memoryScenario } from './memory';
import { throughputScenario } from './throughput';
import { startBenchContext, type BenchContext, type Figure } from './harness';
import { fmt, markdown } from './report';
import { TEMPORAL_CLI_VERSION } from '../src/temporal/cli';

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<Figure[]>> = {
  approvals: approvalsScenario,
  cost: costScenario,
  memory: memoryScenario,
  throughput: throughputScenario,
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, 'temporal-port': { type: 'string' } } });
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((name) => !SCENARIOS[name]);
  if (unknown?.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}: known are ${Object.keys(SCENARIOS).join(', ')}`);
  const started = Date.now();
  const ctx = await startBenchContext({ quick: values.quick ?? false, temporalPort: values['temporal-port'] ? Number(values['temporal-port']) : undefined });
  const figures: Figure[] = [];
  try {
    for (const [name, run] of Object.entries(SCENARIOS)) {
      if (only && !only.includes(name)) continue;
      const scenarioStart = Date.now();
      const found = await run(ctx);
      figures.push(...found);
      ctx.log(`${name}: ${Math.round((Date.now() - scenarioStart) / 1000)} s`);
      for (const f of found) {
        ctx.log(
          `  ${f.name}: median ${fmt(f.value.median)} ${f.unit}, p99 ${fmt(f.value.p99)}${f.baseline ? ` | ${f.baseline.name}: median ${fmt(f.baseline.value.median)}, p99 ${fmt(f.baseline.value.p99)}` : ''}${f.target ? ` | target ${f.target.text}: ${fmt(f.target.actual)} ${f.target.met ? 'met' : 'MISSED'}` : ''}`,
        );
      }
    }
  } finally {
    await ctx.close();
  }
  const report = {
    when: new Date().toISOString(),
    quick: ctx.quick,
    seconds: Math.round((Date.now() - started) / 1000),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, temporalCli: TEMPORAL_CLI_VERSION, platform: `${os.platform()} ${os.release()}` },
    figures,
  };
  const dir = path.join(__dirname, 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(dir, 'latest.md'), markdown(report));
  const missed = figures.filter((f) => f.target && !f.target.met);
  ctx.log(`\n${figures.length} figures, ${missed.length} targets missed; written to bench/results/latest.json and latest.md (${report.seconds} s)`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
