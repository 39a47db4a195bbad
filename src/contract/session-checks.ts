/**
 * The workflow's checks of its input, signals and update: the rules of the zod schemas in
 * `session-schemas.ts`, written without zod so the workflow bundle does not carry it (see `session.ts`).
 * test/contract/session-checks.test.ts holds each check to its schema: the same inputs accepted, the same
 * values out.
 */
import { durationProblem, parseDuration } from './duration';
import {
  DEFAULT_REVIEW_TIMEOUT_MS,
  DURATION_MAX_MS,
  LABEL_NAME,
  LABEL_NAME_RULE,
  LIMITS,
  NOTIFY_EVENTS,
  ON_TIMEOUT,
  ORIENTATIONS,
  REQUEST_ID_MAX,
  TIMING_COUNTS,
  TIMING_DEFAULTS,
  URL_PROTOCOL,
  type TimingField,
} from './session';
import type { ApproveSignal, DecisionOutcomeInput, HeygenEventSignal, ParsedSessionInput, SendMessageSignal, SessionFile, Timing } from './session-schemas';

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: string[] };

type Fields = Record<string, unknown>;

/** Collects the problems of one value, each under the path of the field it is about. */
class Checker {
  readonly problems: string[] = [];

  problem(path: string, message: string): undefined {
    this.problems.push(path ? `${path}: ${message}` : message);
    return undefined;
  }

  object(value: unknown, path: string, strictKeys?: readonly string[]): Fields | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.problem(path, 'expected an object');
    const fields = value as Fields;
    for (const key of Object.keys(fields)) if (strictKeys && !strictKeys.includes(key)) this.problem(path, `unknown key "${key}"`);
    return fields;
  }

  string(value: unknown, path: string, min: number, max: number): string | undefined {
    if (typeof value !== 'string') return this.problem(path, 'expected a string');
    if (value.length < min) return this.problem(path, `expected at least ${min} characters`);
    if (value.length > max) return this.problem(path, `expected at most ${max} characters`);
    return value;
  }

  optionalString(fields: Fields, key: string, path: string, min: number, max: number): string | undefined {
    return fields[key] === undefined ? undefined : this.string(fields[key], join(path, key), min, max);
  }

  oneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T | undefined {
    return options.includes(value as T) ? (value as T) : this.problem(path, `expected one of ${options.join(', ')}`);
  }

  boolean(value: unknown, path: string): boolean | undefined {
    return typeof value === 'boolean' ? value : this.problem(path, 'expected true or false');
  }

  duration(value: unknown, path: string): number | undefined {
    let ms: number | undefined;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return this.problem(path, 'expected a number');
      if (!Number.isInteger(value) || value <= 0) return this.problem(path, 'expected a whole number of milliseconds above 0');
      ms = value;
    } else if (typeof value === 'string') {
      if (value.length > LIMITS.durationText) return this.problem(path, `expected at most ${LIMITS.durationText} characters`);
      ms = parseDuration(value);
      if (ms === undefined || ms <= 0) return this.problem(path, durationProblem(value));
    } else {
      return this.problem(path, 'expected a duration');
    }
    return ms > DURATION_MAX_MS ? this.problem(path, 'expected a duration of at most 365d') : ms;
  }

  count(value: unknown, path: string, bounds: { min: number; max: number; integer: boolean }): number | undefined {
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.problem(path, 'expected a number');
    if (bounds.integer && !Number.isInteger(value)) return this.problem(path, 'expected a whole number');
    if (value < bounds.min || value > bounds.max) return this.problem(path, `expected a number from ${bounds.min} to ${bounds.max}`);
    return value;
  }

  /** As zod's `z.url({protocol: /^https?$/})`: trimmed, `http(s)://` required, tabs and newlines dropped, then the length. */
  url(value: unknown, path: string): string | undefined {
    const text = this.string(value, path, 0, Number.MAX_SAFE_INTEGER);
    if (text === undefined) return undefined;
    const trimmed = text.trim();
    let protocol: string;
    try {
      if (!/^https?:\/\//i.test(trimmed)) throw new Error('not http(s)');
      protocol = new URL(trimmed).protocol.replace(/:$/, '');
    } catch {
      return this.problem(path, 'expected an http(s) URL');
    }
    if (!URL_PROTOCOL.test(protocol)) return this.problem(path, 'expected an http(s) URL');
    const url = trimmed.replace(/[\t\n\r]/g, '');
    return url.length > LIMITS.url ? this.problem(path, `expected at most ${LIMITS.url} characters`) : url;
  }

  files(value: unknown, path: string): SessionFile[] | undefined {
    if (!Array.isArray(value)) return this.problem(path, 'expected an array');
    if (value.length > LIMITS.files) return this.problem(path, `expected at most ${LIMITS.files} files`);
    const files: SessionFile[] = [];
    value.forEach((item, index) => {
      const file = this.file(item, `${path}[${index}]`);
      if (file) files.push(file);
    });
    return files.length === value.length ? files : undefined;
  }

  private file(value: unknown, path: string): SessionFile | undefined {
    const fields = this.object(value, path);
    if (!fields) return undefined;
    switch (fields.type) {
      case 'asset_id': {
        if (!this.object(value, path, ['type', 'assetId'])) return undefined;
        const assetId = this.string(fields.assetId, join(path, 'assetId'), 1, LIMITS.name);
        return assetId === undefined ? undefined : { type: 'asset_id', assetId };
      }
      case 'url': {
        if (!this.object(value, path, ['type', 'url'])) return undefined;
        const url = this.url(fields.url, join(path, 'url'));
        return url === undefined ? undefined : { type: 'url', url };
      }
      case 'base64': {
        if (!this.object(value, path, ['type', 'mediaType', 'data'])) return undefined;
        const mediaType = this.string(fields.mediaType, join(path, 'mediaType'), 1, LIMITS.mediaType);
        const data = this.string(fields.data, join(path, 'data'), 1, Number.MAX_SAFE_INTEGER);
        return mediaType === undefined || data === undefined ? undefined : { type: 'base64', mediaType, data };
      }
      default:
        return this.problem(join(path, 'type'), 'expected asset_id, url or base64');
    }
  }

  result<T>(value: T): Checked<T> {
    return this.problems.length === 0 ? { ok: true, value } : { ok: false, problems: this.problems };
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

const INPUT_KEYS = ['prompt', 'avatarId', 'voiceId', 'orientation', 'files', 'autoApprove', 'review', 'labels', 'notify', 'requestedBy', 'tenant', 'timing'] as const;
const TIMING_FIELDS = Object.keys(TIMING_DEFAULTS) as TimingField[];

/** A session's input, with its defaults filled in (`SessionInputSchema`). */
export function checkSessionInput(raw: unknown): Checked<ParsedSessionInput> {
  const check = new Checker();
  const fields = check.object(raw, '', INPUT_KEYS);
  if (!fields) return check.result(undefined as never);
  const input: ParsedSessionInput = {
    prompt: check.string(fields.prompt, 'prompt', 1, LIMITS.prompt) ?? '',
    autoApprove: fields.autoApprove === undefined ? false : (check.boolean(fields.autoApprove, 'autoApprove') ?? false),
    review: { timeout: DEFAULT_REVIEW_TIMEOUT_MS, onTimeout: 'stop' },
  };
  for (const key of ['avatarId', 'voiceId', 'requestedBy', 'tenant'] as const) {
    const value = check.optionalString(fields, key, '', 1, LIMITS.name);
    if (value !== undefined) input[key] = value;
  }
  if (fields.orientation !== undefined) input.orientation = check.oneOf(fields.orientation, 'orientation', ORIENTATIONS);
  if (fields.files !== undefined) input.files = check.files(fields.files, 'files');
  if (fields.review !== undefined) {
    const review = check.object(fields.review, 'review', ['timeout', 'onTimeout']);
    if (review?.timeout !== undefined) input.review.timeout = check.duration(review.timeout, 'review.timeout') ?? 0;
    if (review?.onTimeout !== undefined) input.review.onTimeout = check.oneOf(review.onTimeout, 'review.onTimeout', ON_TIMEOUT) ?? 'stop';
  }
  if (fields.labels !== undefined) input.labels = checkLabels(check, fields.labels);
  if (fields.notify !== undefined) {
    const notify = check.object(fields.notify, 'notify', ['url', 'events']);
    if (notify) {
      input.notify = { url: check.url(notify.url, 'notify.url') ?? '' };
      if (notify.events !== undefined) {
        if (!Array.isArray(notify.events) || notify.events.length < 1) check.problem('notify.events', 'expected at least one event');
        else input.notify.events = notify.events.map((event, index) => check.oneOf(event, `notify.events[${index}]`, NOTIFY_EVENTS)!);
      }
    }
  }
  // As `SessionTimingOverridesSchema`: only the fields given (the workflow resolves the rest, resolveTiming).
  if (fields.timing !== undefined) input.timing = checkTiming(check, fields.timing);
  return check.result(input);
}

function checkLabels(check: Checker, raw: unknown): Record<string, string> | undefined {
  const labels = check.object(raw, 'labels');
  if (!labels) return undefined;
  for (const [name, value] of Object.entries(labels)) {
    if (!LABEL_NAME.test(name)) check.problem(`labels.${name}`, LABEL_NAME_RULE);
    check.string(value, `labels.${name}`, 0, LIMITS.labelValue);
  }
  if (Object.keys(labels).length > LIMITS.labels) check.problem('labels', `at most ${LIMITS.labels} labels`);
  return labels as Record<string, string>;
}

function checkTiming(check: Checker, raw: unknown): Partial<Timing> | undefined {
  const path = 'timing';
  const fields = check.object(raw, path, TIMING_FIELDS);
  if (!fields) return undefined;
  const timing: Partial<Timing> = {};
  for (const field of TIMING_FIELDS) {
    const value = fields[field];
    if (value === undefined) continue;
    const bounds = TIMING_COUNTS[field];
    const checked = bounds ? check.count(value, join(path, field), bounds) : check.duration(value, join(path, field));
    if (checked !== undefined) timing[field] = checked;
  }
  return timing;
}

/** The whole timing of a session: its overrides over the defaults (`TimingSchema`). */
export function resolveTiming(overrides: Partial<Timing> | undefined): Timing {
  return { ...TIMING_DEFAULTS, ...overrides };
}

/** `approve` (`ApproveSignalSchema`); no payload is an approval with nothing to add. */
export function checkApproveSignal(raw: unknown): Checked<ApproveSignal> {
  const check = new Checker();
  const fields = check.object(raw ?? {}, '');
  if (!fields) return check.result(undefined as never);
  const signal: ApproveSignal = {};
  const requestId = check.optionalString(fields, 'requestId', '', 1, REQUEST_ID_MAX);
  const by = check.optionalString(fields, 'by', '', 1, LIMITS.name);
  const message = check.optionalString(fields, 'message', '', 1, LIMITS.message);
  if (requestId !== undefined) signal.requestId = requestId;
  if (by !== undefined) signal.by = by;
  if (message !== undefined) signal.message = message;
  return check.result(signal);
}

/** `sendMessage` (`SendMessageSignalSchema`). */
export function checkSendMessageSignal(raw: unknown): Checked<SendMessageSignal> {
  const check = new Checker();
  const fields = check.object(raw, '');
  if (!fields) return check.result(undefined as never);
  const signal: SendMessageSignal = { message: check.string(fields.message, 'message', 1, LIMITS.message) ?? '' };
  const requestId = check.optionalString(fields, 'requestId', '', 1, REQUEST_ID_MAX);
  if (requestId !== undefined) signal.requestId = requestId;
  for (const key of ['by', 'avatarId', 'voiceId'] as const) {
    const value = check.optionalString(fields, key, '', 1, LIMITS.name);
    if (value !== undefined) signal[key] = value;
  }
  if (fields.files !== undefined) signal.files = check.files(fields.files, 'files');
  return check.result(signal);
}

/** `heygenEvent` (`HeygenEventSignalSchema`): a hint, its payload optional. */
export function checkHeygenEventSignal(raw: unknown): Checked<HeygenEventSignal> {
  const check = new Checker();
  if (raw === undefined) return check.result(undefined);
  const fields = check.object(raw, '');
  if (!fields) return check.result(undefined);
  const event: NonNullable<HeygenEventSignal> = {};
  const eventType = check.optionalString(fields, 'eventType', '', 0, LIMITS.eventType);
  const eventId = check.optionalString(fields, 'eventId', '', 0, LIMITS.eventId);
  if (eventType !== undefined) event.eventType = eventType;
  if (eventId !== undefined) event.eventId = eventId;
  return check.result(event);
}

/** The `decisionOutcome` update's input (`DecisionOutcomeInputSchema`). */
export function checkDecisionOutcomeInput(raw: unknown): Checked<DecisionOutcomeInput> {
  const check = new Checker();
  const fields = check.object(raw, '', ['requestId']);
  if (!fields) return check.result(undefined as never);
  return check.result({ requestId: check.string(fields.requestId, 'requestId', 1, REQUEST_ID_MAX) ?? '' });
}

/** The problems as one line, for an action's reason or a failure's message. */
export function describeProblems(problems: string[]): string {
  return problems.join('; ');
}
