/**
 * How the CLI words a session: elapsed time as a duration, progress that never runs backwards, the next
 * step after every stop.
 */
import type { SessionState } from '../../src/contract/session';
import { elapsed, nextStep, statusLine } from '../../src/cli/render';

const at = (seconds: number) => Date.parse('2026-11-26T10:00:00Z') + seconds * 1000;

test.each([
  [5, '5s'],
  [65, '1m 05s'],
  [3_725, '1h 02m'],
])('%i seconds read as %s, not as a clock time', (seconds, text) => {
  expect(elapsed('2026-11-26T10:00:00Z', at(seconds))).toBe(text);
});

test('progress shown never goes backwards when HeyGen starts counting again on a revision', () => {
  const state = { phase: 'thinking', progress: 10, createdAt: '2026-11-26T10:00:00Z', revisions: 1, heygen: { unreachableSince: null }, queue: null } as unknown as SessionState;
  expect(statusLine(state, at(30), 45)).toMatch(/\s45%/);
  expect(statusLine({ ...state, progress: 60 }, at(30), 45)).toMatch(/\s60%/);
});

test.each([
  ['reviewing', /^Next: npx vao status s-1 \(the storyboard\), then npx vao approve s-1 or npx vao message s-1 -m/],
  ['waiting_for_input', /^Next: npx vao status s-1 \(the question\), then npx vao message s-1 -m "your answer"$/],
  ['thinking', /^Next: npx vao watch s-1$/],
  ['completed', /^Next: npx vao video s-1$/],
  ['failed', /^Why: npx vao status s-1$/],
  ['archiving', /^Next: npx vao watch s-1$/],
  ['archive_failed', /^Why: npx vao status s-1; HeyGen's video: npx vao video s-1$/],
])('after %s the next step is named', (phase, expected) => {
  expect(nextStep({ id: 's-1', phase: phase as SessionState['phase'], review: null })).toMatch(expected);
});
