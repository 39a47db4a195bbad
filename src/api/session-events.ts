/**
 * A session's live stream (`GET /v1/sessions/:id/events`): what changed between two reads of its state,
 * as events, one per change in the order a reader would want them (`changesBetween`, pure, so the
 * stream's contract is tested without a server), and the writer that turns the session's shared reads
 * (session-feeds.ts) into one stream's events, re-authorising it before each.
 */
import type { ServerResponse } from 'node:http';
import { FINAL_PHASES, type SessionState } from '../contract/session';
import type { SessionFeeds, StateReader } from './session-feeds';

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

/** Why a stream may no longer be read: the refusal a request with its credential would get now. */
export interface Refusal {
  code: string;
  message: string;
}

export interface StreamSource {
  id: string;
  first: SessionState;
  /** Reads the session again (see SessionFeeds): used if no other stream of this session is reading it. */
  next: StateReader;
  feeds: SessionFeeds;
  /** Checks the stream's credential again, as a request's would be checked (against the state just read, for a link's revocation): undefined while it still may read. */
  reauthorise: (state?: SessionState) => Refusal | undefined;
}

/**
 * Writes a session's events to an open response until the session ends, the reader goes away, the
 * session is gone, or the stream's credential stops allowing it (a last `revoked` event says why).
 * Settles when the response has closed.
 */
export function streamSessionEvents(stream: ServerResponse, { id, first, next, feeds, reauthorise }: StreamSource): Promise<void> {
  stream.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let sequence = 0;
  let lastWrite = Date.now();
  const send = (events: SessionEvent[]) => {
    for (const { event, data } of events) stream.write(`id: ${++sequence}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    lastWrite = Date.now();
  };
  const closed = new Promise<void>((resolve) => stream.once('close', resolve));

  send(changesBetween(undefined, first));
  if (isFinal(first)) {
    stream.end();
    return closed;
  }
  let previous = first;
  const finish = (last?: string) => {
    unwatch();
    if (!stream.writableEnded) stream.end(last);
  };
  // Each read is checked against the credential first: nothing more is written for one that lapsed.
  const unwatch = feeds.watch(id, next, (update) => {
    if (stream.writableEnded || stream.destroyed) return;
    const refusal = reauthorise(update.kind === 'state' ? update.state : undefined);
    if (refusal) return finish(`id: ${++sequence}\nevent: revoked\ndata: ${JSON.stringify(refusal)}\n\n`);
    if (update.kind === 'gone') return finish();
    if (update.kind === 'state') {
      const events = changesBetween(previous, update.state);
      previous = update.state;
      if (events.length) send(events);
      if (isFinal(previous)) return finish();
    }
    if (Date.now() - lastWrite > KEEPALIVE_MS) {
      stream.write(': still here\n\n');
      lastWrite = Date.now();
    }
  });
  void closed.then(unwatch);
  return closed;
}
