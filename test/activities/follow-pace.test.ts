/** The follow activity's schedule: backing off, then paced by the progress toward 100. */
import { nextFollowWait, type FollowSchedule } from '../../src/activities/heygen';

const schedule: FollowSchedule = { initial: 10_000, backoff: 2, max: 120_000, towardEnd: true };

test('without a rising progress the wait is the backed-off interval', () => {
  expect(nextFollowWait(schedule, 40_000, null, { at: 0, progress: 50 })).toBe(40_000);
  expect(nextFollowWait(schedule, 40_000, { at: 0, progress: 50 }, { at: 30_000, progress: 50 })).toBe(40_000);
  expect(nextFollowWait({ ...schedule, towardEnd: false }, 40_000, { at: 0, progress: 50 }, { at: 30_000, progress: 60 })).toBe(40_000);
});

test('a rising progress sets the next read at the pace\'s end, within initial and max', () => {
  // 1 point per 6 s: from 90, the end is 60 s away.
  expect(nextFollowWait(schedule, 20_000, { at: 0, progress: 80 }, { at: 60_000, progress: 90 })).toBe(60_000);
  // Far away: at most max, whatever the interval.
  expect(nextFollowWait(schedule, 20_000, { at: 0, progress: 50 }, { at: 60_000, progress: 51 })).toBe(120_000);
  // Overdue (at 100 but still working): initial.
  expect(nextFollowWait(schedule, 120_000, { at: 0, progress: 50 }, { at: 60_000, progress: 100 })).toBe(10_000);
});
