/**
 * What changed in a session between two reads of its state, as the events of its live stream
 * (`GET /v1/sessions/:id/events`): one per change, in the order a reader would want them. Pure, so the
 * stream's contract is tested without a server.
 */
import { FINAL_PHASES, type SessionState } from '../contract/session';

export type SessionEvent =
  | { event: 'snapshot'; data: SessionState }
  | { event: 'phase'; data: { phase: SessionState['phase']; phaseSince: string; error: SessionState['error'] } }
  | { event: 'progress'; data: { progress: number | null } }
  | { event: 'queue'; data: { queue: SessionState['queue'] } }
  | { event: 'message'; data: SessionState['messages'][number] }
  | { event: 'review'; data: NonNullable<SessionState['review']> }
  | { event: 'video'; data: NonNullable<SessionState['video']> }
  | { event: 'end'; data: { phase: SessionState['phase'] } };

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function isFinal(state: SessionState): boolean {
  return FINAL_PHASES.includes(state.phase);
}

/** The events that take a reader from `before` to `after` (the first read: a snapshot). */
export function changesBetween(before: SessionState | undefined, after: SessionState): SessionEvent[] {
  if (!before) return [{ event: 'snapshot', data: after }, ...(isFinal(after) ? [{ event: 'end' as const, data: { phase: after.phase } }] : [])];
  const events: SessionEvent[] = [];
  const lastSeq = before.messages.at(-1)?.seq ?? 0;
  for (const message of after.messages) if (message.seq > lastSeq) events.push({ event: 'message', data: message });
  if (after.review && !same(before.review, after.review)) events.push({ event: 'review', data: after.review });
  if (!same(before.queue, after.queue)) events.push({ event: 'queue', data: { queue: after.queue } });
  if (before.progress !== after.progress) events.push({ event: 'progress', data: { progress: after.progress } });
  if (after.video && !same(before.video, after.video)) events.push({ event: 'video', data: after.video });
  // Every phase the session went through since the last read, even one that came and went between reads.
  const lastSeen = before.phaseHistory.at(-1)?.seq ?? 0;
  const passed = after.phaseHistory.filter((entry) => entry.seq > lastSeen);
  for (const entry of passed.length || before.phase === after.phase ? passed : [{ phase: after.phase, at: after.phaseSince }]) {
    const current = entry === passed.at(-1) || !passed.length;
    events.push({ event: 'phase', data: { phase: entry.phase, phaseSince: entry.at, error: current ? after.error : null } });
  }
  if (isFinal(after)) events.push({ event: 'end', data: { phase: after.phase } });
  return events;
}
