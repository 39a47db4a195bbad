/**
 * The one duration rule, everywhere (config, API bodies, workflow timing, CLI flags, simulator
 * directives): text always carries a unit (`500ms`, `30s`, `5m`, `2h`, `7d`); a JSON number is always
 * milliseconds. A bare number in text ("3000") is refused rather than guessed at.
 * Pure and deterministic: shared by workflow code, the simulator and config.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** How a duration is written, for error messages. */
export const DURATION_FORM = 'a duration with a unit (ms, s, m, h or d), such as 500ms, 30s, 5m or 7d';

/** Milliseconds, or undefined when the text is not a duration with a unit. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

/** The problem with text that is not a duration, naming the form (and the missing unit, if that is it). */
export function durationProblem(text: string): string {
  return /^\s*\d+(\.\d+)?\s*$/.test(text) ? `expected ${DURATION_FORM}; a bare number has no unit (write ${text.trim()}ms or ${text.trim()}s)` : `expected ${DURATION_FORM}`;
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
