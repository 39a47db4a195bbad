/** The bench's report: figures as a readable table (bench/results/latest.md). */
import type { Figure } from './harness';

export const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2));

export function markdown(report: { when: string; quick: boolean; machine: Record<string, unknown>; figures: Figure[]; seconds: number }): string {
  const lines = [
    `# Benchmark results (${report.quick ? 'quick' : 'full'} run)`,
    '',
    `${report.when}, ${report.seconds} s. Machine: ${JSON.stringify(report.machine)}`,
    '',
    '| Scenario | Figure | min / median / p99 (n) | Baseline, same run: min / median / p99 | Target | Actual | Met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const f of report.figures) {
    const v = (s: Figure['value']) => `${fmt(s.min)} / ${fmt(s.median)} / ${fmt(s.p99)} ${f.unit} (${s.n})`;
    lines.push(
      `| ${f.scenario} | ${f.name} | ${v(f.value)} | ${f.baseline ? `${f.baseline.name}: ${v(f.baseline.value)}` : ''} | ${f.target?.text ?? ''} | ${f.target ? fmt(f.target.actual) : ''} | ${f.target ? (f.target.met ? 'yes' : '**no**') : ''} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
