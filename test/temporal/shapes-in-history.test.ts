/**
 * What `npm run sessions:legacy` reads from each history, checked against the replay fixtures: each was
 * recorded by a known shape of the session workflow (polled-with-timers/ before `follow-in-activity`,
 * the top-level ones after it; the `-dropped`/`-kept` pairs on either side of their patch).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { WORKFLOW_SHAPES } from '../../src/contract/workflow-shapes';
import { formatLegacyReport, legacyReport, type OpenSession } from '../../src/temporal/legacy-sessions';
import { shapesInHistory } from '../../src/temporal/shapes-in-history';

const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');
const files = (readdirSync(HISTORIES, { recursive: true }) as string[]).filter((file) => /(^|\/)session-[^/]*\.json$/.test(file)).sort();
const eventsOf = (file: string) => historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'))).events ?? [];
const verdicts = Object.fromEntries(files.map((file) => [file, shapesInHistory(eventsOf(file))]));
const polledWithTimers = files.filter((file) => file.startsWith('polled-with-timers/'));
const followingInActivity = files.filter((file) => !file.includes('/'));

test('follow-in-activity: every session before it took the old shape, every one after it carries the marker', () => {
  expect(polledWithTimers.length).toBeGreaterThanOrEqual(11);
  expect(polledWithTimers.map((file) => verdicts[file]!.followInActivity)).toEqual(polledWithTimers.map(() => 'old-shape'));
  // Except a session stopped before HeyGen had made it a session: it never came to following.
  const followed = followingInActivity.filter((file) => file !== 'session-create-stopped.json');
  expect(followed.map((file) => verdicts[file]!.followInActivity)).toEqual(followed.map(() => 'marker'));
  expect(verdicts['session-create-stopped.json']!.followInActivity).toBe('not-yet');
});

test('resources-in-one-activity: a session with storyboard images took one shape or the other; one without has not come to it', () => {
  for (const file of files) {
    const hadImages = eventsOf(file).some((event) => /^getHeyGenResources?$/.test(event.activityTaskScheduledEventAttributes?.activityType?.name ?? ''));
    const expected = !hadImages ? 'not-yet' : file.startsWith('polled-with-timers/') ? 'old-shape' : 'marker';
    expect([file, verdicts[file]!.resourcesInOneActivity]).toEqual([file, expected]);
  }
  expect(verdicts['session-images-filled-later.json']!.resourcesInOneActivity).toBe('marker');
});

test('archive-media: decided at the last step, so a completed session took a shape and an open one none yet', () => {
  expect(verdicts['session-archived.json']!.archiveMedia).toBe('marker');
  expect(verdicts['session-archive-retried.json']!.archiveMedia).toBe('marker');
  expect(verdicts['polled-with-timers/session-happy-path.json']!.archiveMedia).toBe('old-shape');
  const events = eventsOf('polled-with-timers/session-happy-path.json');
  const beforeTheEnd = events.filter((event) => event.eventType !== temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  expect(shapesInHistory(beforeTheEnd).archiveMedia).toBe('not-yet');
  expect(verdicts['session-cancel-review.json']!.archiveMedia).toBe('not-yet');
});

test('follow-cancel-awaited: decided at the end, when a follow is still being cancelled: the abandoned one is the old shape, the awaited one carries the marker', () => {
  expect(verdicts['session-follow-cancel-abandoned.json']!.followCancelAwaited).toBe('old-shape');
  expect(verdicts['session-follow-cancel-awaited.json']!.followCancelAwaited).toBe('marker');
  expect(verdicts['session-cancel-review.json']!.followCancelAwaited).toBe('not-yet');
});

test.each([
  ['queuePositionKept', 'session-queue-position-dropped.json', 'session-queue-position-kept.json'],
  ['videoWebhookKept', 'session-video-webhook-dropped.json', 'session-video-webhook-kept.json'],
] as const)('%s: the race recorded before the patch is the old shape, after it the marker; no other session met the race', (shape, dropped, kept) => {
  expect(verdicts[dropped]![shape]).toBe('old-shape');
  expect(verdicts[kept]![shape]).toBe('marker');
  const others = files.filter((file) => file !== dropped && file !== kept);
  expect(others.filter((file) => verdicts[file]![shape] !== 'not-yet')).toEqual([]);
});

test('the report counts only the sessions this build runs toward its next step', () => {
  const shapes = (followInActivity: 'old-shape' | 'marker' | 'not-yet') => ({
    ...(Object.fromEntries(Object.keys(WORKFLOW_SHAPES).map((name) => [name, 'not-yet'])) as OpenSession['shapes']),
    followInActivity,
  });
  const sessions: OpenSession[] = [
    { workflowId: 'old-build', pinnedTo: 'vao:v1', shapes: shapes('old-shape') },
    { workflowId: 'unversioned', pinnedTo: null, shapes: shapes('marker') },
    { workflowId: 'this-build', pinnedTo: 'vao:v2', shapes: shapes('marker') },
  ];
  const report = legacyReport(sessions, { deploymentName: 'vao', buildId: 'v2', versioning: true });
  expect(report).toMatchObject({ openSessions: 3, byBuild: { 'vao:v1': 1, unversioned: 1, 'vao:v2': 1 }, runByThisBuild: 2 });
  expect(report.shapes.followInActivity).toMatchObject({ all: { 'old-shape': 1, marker: 2 }, thisBuild: { 'old-shape': 0, marker: 2 } });
  expect(report.shapes.followInActivity.next).toMatch(/^the old shape may go: replace patched\(\) with deprecatePatch\(\)/);
  expect(report.shapes.archiveMedia.next).toMatch(/^the patch may go/);
  const printed = formatLegacyReport(report);
  expect(printed).toContain('Open sessions: 3 (vao:v1: 1, unversioned: 1, vao:v2: 1); this build (vao:v2) runs 2 of them.');
  expect(printed).toMatch(/follow-in-activity \(since .*\)\n {2}all open sessions: +old shape 1, marker 2, not there yet 0\n {2}this build runs: +old shape 0, marker 2, not there yet 0\n {2}next: the old shape may go/);
  // Unversioned workers run every session, whatever it was pinned to before.
  const unversioned = legacyReport(sessions, { deploymentName: 'vao', buildId: 'v2', versioning: false });
  expect(unversioned.shapes.followInActivity.next).toMatch(/^keep the patch and the old shape: 1 open session/);
});

/** A history with the patch's marker taken out: what the same run would have left on the old shape's code path. */
function withoutMarker(file: string, patchId: string) {
  return eventsOf(file).filter((event) => {
    const data = event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
    return !data || !Buffer.from(data).toString('utf8').includes(`"${patchId}"`);
  });
}

test('stop-confirmed-before-release: a stop recorded before issue 22 is the old shape, the stops recorded since carry the marker', () => {
  expect(verdicts['session-deadline-stop.json']!.stopConfirmedBeforeRelease).toBe('old-shape');
  expect(verdicts['session-cancel-review.json']!.stopConfirmedBeforeRelease).toBe('old-shape');
  expect(verdicts['session-stop-confirmed.json']!.stopConfirmedBeforeRelease).toBe('marker');
  expect(verdicts['session-stopped-at-review-confirmed.json']!.stopConfirmedBeforeRelease).toBe('marker');
  expect(verdicts['session-happy-path.json']!.stopConfirmedBeforeRelease).toBe('not-yet');
});

test.each([
  // No fixture before issue 22 was stopped while it created.
  ['createStoppedWhileRefused', 'create-stopped-while-refused', 'session-create-stopped.json', []],
  // The queue-position pair ran on the time-skipping server with no governor: their releases failed.
  ['releaseRevivesGovernor', 'release-revives-governor', 'session-release-revived-governor.json', ['session-queue-position-dropped.json', 'session-queue-position-kept.json']],
] as const)('%s: the run that met it carries the marker, the same run without it is the old shape, and so are the older runs that met it', (shape, patchId, file, older) => {
  expect(verdicts[file]![shape]).toBe('marker');
  expect(shapesInHistory(withoutMarker(file, patchId))[shape]).toBe('old-shape');
  expect(files.filter((other) => other !== file && verdicts[other]![shape] !== 'not-yet')).toEqual(older);
  for (const other of older) expect(verdicts[other]![shape]).toBe('old-shape');
});
