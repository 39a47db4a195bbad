/**
 * The bench (issue #12) still runs: its approvals and throughput scenarios at their smallest sizes, on
 * this run's Temporal server, give a figure for each measure, with its baseline and target, and the
 * report renders them. Timings are printed, never asserted.
 */
import { approvalsScenario } from '../bench/approvals';
import { markdown } from '../bench/report';
import { throughputScenario } from '../bench/throughput';
import { installTemporalRuntime } from '../src/temporal/runtime';
import { connectClient, temporalAddress, testLogger } from './harness/temporal';

test('approvals and throughput at their smallest sizes: every figure measured, with its target', async () => {
  // The bench's workers log through the Runtime: into this file's log, as the bench's own would.
  installTemporalRuntime(testLogger, { shutdownSignals: [] });
  const { client, close } = await connectClient(temporalAddress());
  try {
    const ctx = { quick: true, smoke: true, logger: testLogger, address: temporalAddress(), client, log: () => undefined };
    const figures = [...(await approvalsScenario(ctx)), ...(await throughputScenario(ctx))];
    console.log(figures.map((f) => `${f.name}: median ${f.value.median.toFixed(1)} ${f.unit} (n ${f.value.n})`).join('\n'));
    expect(figures.map((f) => f.scenario)).toEqual(['approvals', 'approvals', 'approvals', 'approvals', 'throughput']);
    for (const figure of figures) {
      expect(figure.value.n).toBeGreaterThan(0);
      expect(Number.isFinite(figure.value.median)).toBe(true);
      expect(Number.isFinite(figure.target!.actual)).toBe(true);
      expect(Number.isFinite(figure.baseline!.value.median)).toBe(true);
    }
    // Both sides of the approvals were measured on their own sessions: 2 bursts of 4 at once each, 2 each one at a time.
    expect(figures.slice(0, 4).map((f) => [f.value.n, f.baseline!.value.n])).toEqual([
      [8, 8],
      [8, 8],
      [2, 2],
      [2, 2],
    ]);
    const table = markdown({ when: 'now', quick: true, machine: {}, figures, seconds: 1 });
    expect(table.split('\n').filter((line) => line.startsWith('| approvals') || line.startsWith('| throughput'))).toHaveLength(5);
  } finally {
    await close();
  }
});
