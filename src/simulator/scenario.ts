/**
 * Per-session scenarios: a directive inside the prompt chooses how the simulated agent behaves, so any
 * client (our API, curl, the CLI) can pick a path through the state machine without extra endpoints.
 *
 *   [[sim think=30s ask=1 review=skip generate=5m video_size=8mb fail=generating stuck=thinking ...]]
 *
 * The directive is simulator-only: the real HeyGen API would read it as part of the prompt.
 * Durations are simulated time (see SIMULATOR_TIME_SCALE): `500ms`, `30s`, `5m`, `1h`, or bare seconds.
 */
import { durationProblem, parseDuration } from '../contract/duration';

export interface Scenario {
  /** Thinking time before the first checkpoint (and before generating, when review is skipped). */
  thinkMs: number;
  /** Thinking time after a message (an answer or a revision request). */
  reviseMs: number;
  /** How many `waiting_for_input` questions come before the first storyboard. */
  asks: number;
  /** `skip`: go from thinking straight to generating, as chat mode sometimes does. */
  review: 'on' | 'skip';
  /** Rendering time. */
  generateMs: number;
  /** How long the video object stays `processing` after the session says `completed`. */
  videoDelayMs: number;
  /** Length of the produced video in seconds. */
  durationSeconds: number;
  /** Scenes per storyboard (each an image resource). */
  scenes: number;
  /** Size of the rendered video file in bytes (the sample MP4, padded); unset: the sample as it is. */
  videoBytes?: number;
  /** Where the session fails: `silent` fails in generating with no error message and empty failure fields. */
  fail?: 'thinking' | 'generating' | 'video' | 'silent';
  /** A phase that never ends (until stopped). */
  stuck?: 'thinking' | 'generating';
  /** What turns a review into generation: the `auto_proceed` flag (the page's contract) or the message text. */
  proceed: 'flag' | 'text';
  /** Contract drift: report this undocumented status instead of `thinking`. */
  unknownStatus?: string;
}

export const DEFAULT_SCENARIO: Scenario = {
  thinkMs: 20_000,
  reviseMs: 20_000,
  asks: 0,
  review: 'on',
  generateMs: 60_000,
  videoDelayMs: 0,
  durationSeconds: 30,
  scenes: 4,
  proceed: 'flag',
};

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

const DIRECTIVE = /\[\[sim(?:\s+([^\]]*))?\]\]/g;

function oneOf<T extends string>(key: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ScenarioError(`simulator directive ${key}=${value}: expected one of ${allowed.join(', ')}`);
}

function duration(key: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new ScenarioError(`simulator directive ${key}=${value}: ${durationProblem(value)}`);
  return ms;
}

/** The largest video the simulator makes (its files are generated as they are read, never held). */
const VIDEO_BYTES_MAX = 2 ** 30;
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

function byteSize(key: string, value: string): number {
  const match = /^(\d+)(b|kb|mb|gb)$/i.exec(value);
  const bytes = match ? Number(match[1]) * BYTE_UNITS[match[2]!.toLowerCase()]! : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1 || bytes > VIDEO_BYTES_MAX) {
    throw new ScenarioError(`simulator directive ${key}=${value}: expected a size with a unit (b, kb, mb, gb) up to 1gb, such as 8mb`);
  }
  return bytes;
}

function wholeNumber(key: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ScenarioError(`simulator directive ${key}=${value}: expected a whole number from ${min} to ${max}`);
  }
  return n;
}

/**
 * Reads every `[[sim ...]]` directive of a prompt (later keys win) into a scenario, and returns the
 * prompt without them. Unknown keys and bad values are errors, so a typo never silently runs the
 * default path.
 */
export function parseScenario(prompt: string): { scenario: Scenario; prompt: string } {
  const scenario: Scenario = { ...DEFAULT_SCENARIO };
  let reviseSet = false;
  for (const match of prompt.matchAll(DIRECTIVE)) {
    for (const pair of (match[1] ?? '').split(/\s+/).filter(Boolean)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new ScenarioError(`simulator directive "${pair}": expected key=value`);
      const key = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      switch (key) {
        case 'think':
          scenario.thinkMs = duration(key, value);
          break;
        case 'revise':
          scenario.reviseMs = duration(key, value);
          reviseSet = true;
          break;
        case 'ask':
          scenario.asks = wholeNumber(key, value, 0, 20);
          break;
        case 'review':
          scenario.review = oneOf(key, value, ['on', 'skip'] as const);
          break;
        case 'generate':
          scenario.generateMs = duration(key, value);
          break;
        case 'video_delay':
          scenario.videoDelayMs = duration(key, value);
          break;
        case 'duration':
          scenario.durationSeconds = wholeNumber(key, value, 1, 3600);
          break;
        case 'scenes':
          scenario.scenes = wholeNumber(key, value, 1, 20);
          break;
        case 'video_size':
          scenario.videoBytes = byteSize(key, value);
          break;
        case 'fail':
          scenario.fail = oneOf(key, value, ['thinking', 'generating', 'video', 'silent'] as const);
          break;
        case 'stuck':
          scenario.stuck = oneOf(key, value, ['thinking', 'generating'] as const);
          break;
        case 'proceed':
          scenario.proceed = oneOf(key, value, ['flag', 'text'] as const);
          break;
        case 'unknown_status':
          if (!/^[a-z_]{1,40}$/.test(value)) throw new ScenarioError(`simulator directive ${key}=${value}: expected a lowercase word`);
          scenario.unknownStatus = value;
          break;
        default:
          throw new ScenarioError(
            `unknown simulator directive key "${key}" (known: think, revise, ask, review, generate, video_delay, duration, scenes, video_size, fail, stuck, proceed, unknown_status)`,
          );
      }
    }
  }
  if (!reviseSet) scenario.reviseMs = scenario.thinkMs;
  return { scenario, prompt: prompt.replace(DIRECTIVE, ' ').replace(/\s+/g, ' ').trim() };
}

/**
 * With `proceed=text`, a message approves when it asks to go ahead and does not ask for a change,
 * the way a chat agent reads "Looks perfect, go ahead and generate the video."
 */
export function readsAsApproval(message: string): boolean {
  const approves = /\b(approved?|go ahead|proceed|generate)\b/i.test(message);
  const asksForChange = /\b(but|change|add|remove|instead|replace|shorter|longer|revise|edit)\b/i.test(message);
  return approves && !asksForChange;
}
