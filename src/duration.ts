/**
 * Durations as people write them (`500ms`, `30s`, `5m`, `2h`, `7d`, or a bare number of seconds).
 * Pure and deterministic: shared by workflow code, the simulator and config.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[(match[2] ?? 's') as keyof typeof UNIT_MS]);
}

/** A short human form: 45s, 12m, 3h, 7d. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${Math.round(ms)}ms`;
  if (abs < 90_000) return `${Math.round(ms / 1_000)}s`;
  if (abs < 90 * 60_000) return `${Math.round(ms / 60_000)}m`;
  if (abs < 48 * 3_600_000) return `${Math.round(ms / 3_600_000)}h`;
  return `${Math.round(ms / 86_400_000)}d`;
}
