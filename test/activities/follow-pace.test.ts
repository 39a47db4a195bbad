/** The follow activity's schedule: backing off, then paced by the progress toward the stretch's end. */
import { nextFollowWait, type FollowSchedule } from '../../src/activities/heygen';

const schedule: FollowSchedule = { initial: 10_000, backoff: 2, max: 120_000, paceToward: 100 };

test('without a rising progress the wait is the backed-off interval', () => {
  expect(nextFollowWait(schedule, 40_000, null, { at: 0, progress: 50 })).toBe(40_000);
  expect(nextFollowWait(schedule, 40_000, { at: 0, progress: 50 }, { at: 30_000, progress: 50 })).toBe(40_000);
  expect(nextFollowWait({ ...schedule, paceToward: null }, 40_000, { at: 0, progress: 50 }, { at: 30_000, progress: 60 })).toBe(40_000);
});

test('a rising progress sets the next read at the pace\'s end, within initial and max', () => {
  // 1 point per 6 s: from 90, the end is 60 s away.
  expect(nextFollowWait(schedule, 20_000, { at: 0, progress: 80 }, { at: 60_000, progress: 90 })).toBe(60_000);
  // Far away: at most max, whatever the interval.
  expect(nextFollowWait(schedule, 20_000, { at: 0, progress: 50 }, { at: 60_000, progress: 51 })).toBe(120_000);
  // Due now: initial.
  expect(nextFollowWait(schedule, 120_000, { at: 0, progress: 50 }, { at: 60_000, progress: 99.9 })).toBe(10_000);
});

test('the agent\'s thinking is paced toward a storyboard\'s progress', () => {
  const thinking = { ...schedule, paceToward: 45 };
  // 5 to 25 in 100 s: 45 is 100 s further.
  expect(nextFollowWait(thinking, 40_000, { at: 0, progress: 5 }, { at: 100_000, progress: 25 })).toBe(100_000);
});

test('past the end with nothing new, the pace says nothing: the wait backs off', () => {
  // A render at 100 and a thinking agent past 45 that keep working are read no more often than backing off.
  expect(nextFollowWait(schedule, 80_000, { at: 0, progress: 50 }, { at: 60_000, progress: 100 })).toBe(80_000);
  expect(nextFollowWait({ ...schedule, paceToward: 45 }, 80_000, { at: 0, progress: 30 }, { at: 60_000, progress: 60 })).toBe(80_000);
});

test('a follow scheduled before pacing had a target only backs off', () => {
  const legacy = { initial: 10_000, backoff: 2, max: 120_000, towardEnd: true } as unknown as typeof schedule;
  expect(nextFollowWait(legacy, 40_000, { at: 0, progress: 50 }, { at: 30_000, progress: 60 })).toBe(40_000);
});
