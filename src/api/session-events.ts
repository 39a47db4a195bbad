/**
 * A session's live stream (`GET /v1/sessions/:id/events`): what changed between two reads of its state,
 * as events, one per change in the order a reader would want them (`changesBetween`, pure, so the
 * stream's contract is tested without a server), and the loop that reads and writes them.
 */
import type { ServerResponse } from 'node:http';
import { FINAL_PHASES, type SessionState } from '../contract/session';
import { ApiError } from './errors';

/** A comment this often keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

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

/**
 * Writes a session's events to an open response until the session ends, the reader goes away, or the
 * session is gone; `next` reads the state again (undefined while no worker answers).
 */
export async function streamSessionEvents(stream: ServerResponse, first: SessionState, next: () => Promise<SessionState | undefined>, intervalMs: number): Promise<void> {
  stream.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let closed = false;
  stream.on('close', () => (closed = true));
  let sequence = 0;
  let lastWrite = Date.now();
  const send = (events: SessionEvent[]) => {
    for (const { event, data } of events) stream.write(`id: ${++sequence}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    lastWrite = Date.now();
  };

  let previous = first;
  send(changesBetween(undefined, first));
  while (!closed && !isFinal(previous)) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    if (closed) break;
    let current: SessionState | undefined;
    try {
      current = await next();
    } catch (error) {
      // Gone (its history passed retention): nothing more will come. Anything else: try again.
      if (error instanceof ApiError && error.code === 'not_found') break;
    }
    if (!current) continue;
    const events = changesBetween(previous, current);
    if (events.length) send(events);
    else if (Date.now() - lastWrite > KEEPALIVE_MS) {
      stream.write(': still here\n\n');
      lastWrite = Date.now();
    }
    previous = current;
  }
  if (!closed) stream.end();
}
