/**
 * Since `notify-in-order`: a session's notifications are delivered one at a time, oldest first, so a
 * receiver sees their sequence numbers only grow. Each notification carries the whole session, so an
 * older one that failed is not tried again once a newer one waits: it is `superseded`, and the newer one
 * goes next. When the session ends, every notification but its last event's is superseded, and that one
 * is retried for at most {@link FINAL_WINDOW_MS} more (docs/api.md, "Notifications").
 */
import * as wf from '@temporalio/workflow';
import type { NotifyEvent } from '../../contract/session';
import type { NotificationDelivery } from '../../contract/session-state';
import { iso, type SessionRun } from './context';
import { applicationCause, describeFailure, httpStatusOf } from './failures';

/** The longest wait between two attempts of one notification. */
const NOTIFY_MAX_BACKOFF_MS = 3_600_000;
/** How long the last event of an ended session is retried at most: the workflow stays open no longer for it. */
export const FINAL_WINDOW_MS = 3_600_000;
/** The events that end a session: the one last of them is delivered after the end. */
const ENDING_EVENTS: ReadonlySet<NotifyEvent> = new Set(['session.completed', 'session.failed', 'session.stopped', 'session.expired', 'session.archive_failed']);

type Pending = SessionRun['outbox'][number];

/** Queues a notification (or one carried from the previous run) and makes sure the courier runs. */
export function sendInOrder(run: SessionRun, delivery: NotificationDelivery, body: string, sequence: number): void {
  run.outbox.push({ delivery, body, sequence });
  run.outbox.sort((a, b) => a.sequence - b.sequence);
  run.deliveries.set(delivery.id, { body, done: Promise.resolve() });
  startCourier(run);
}

function startCourier(run: SessionRun): void {
  if (run.courier) return;
  run.courier = wf.CancellationScope.nonCancellable(() => courier(run)).finally(() => {
    run.courier = undefined;
    // Something queued between the courier's last look and its end.
    if (run.outbox.length > 0) startCourier(run);
  });
}

/** The session ended: the older notifications are superseded, its last event's gets its final window. */
export async function settleInOrder(run: SessionRun): Promise<void> {
  run.notifyEndedAt ??= Date.now();
  await wf.condition(() => run.outbox.length === 0);
}

async function courier(run: SessionRun): Promise<void> {
  for (;;) {
    const next = run.outbox[0];
    if (!next) return;
    if (stale(run, next)) {
      settle(run, next, 'superseded', run.notifyEndedAt === null ? 'a newer notification of the session was waiting' : 'the session ended');
      continue;
    }
    const retryIn = await attempt(run, next);
    if (retryIn === null) continue;
    // Until the backoff is over, unless a newer notification comes or the session ends (which may make this one stale).
    const { length } = run.outbox;
    const endedAt = run.notifyEndedAt;
    await wf.condition(() => run.outbox.length !== length || run.notifyEndedAt !== endedAt, retryIn);
  }
}

/** Not worth another attempt: a newer notification waits, or the session ended and this is not its last event. */
function stale(run: SessionRun, pending: Pending): boolean {
  if (pending.delivery.attempts === 0 && run.notifyEndedAt === null) return false;
  const newer = run.outbox.some((other) => other.sequence > pending.sequence);
  if (newer) return true;
  return run.notifyEndedAt !== null && !ENDING_EVENTS.has(pending.delivery.event);
}

/** One attempt; the wait before the next, or null when the notification is settled. */
async function attempt(run: SessionRun, pending: Pending): Promise<number | null> {
  const { delivery, body } = pending;
  const { input, timing } = run;
  delivery.attempts++;
  try {
    const { status } = await run.activities.notifierApart.deliverNotification({
      url: input.notify!.url,
      id: delivery.id,
      body,
      signedBy: input.requestedBy ?? '',
      tenant: input.tenant ?? input.requestedBy ?? '',
    });
    Object.assign(delivery, { lastStatus: status, lastError: null, deliveredAt: iso(Date.now()) });
    settle(run, pending, 'delivered');
    return null;
  } catch (error) {
    Object.assign(delivery, { lastStatus: httpStatusOf(error) ?? null, lastError: describeFailure(error).slice(0, 300) });
    run.touch();
    const backoff = Math.min(timing.notifyRetryInitial * 2 ** (delivery.attempts - 1), NOTIFY_MAX_BACKOFF_MS);
    if (applicationCause(error)?.nonRetryable || Date.now() + backoff > giveUpAt(run, delivery)) {
      wf.log.warn('notification given up', { id: delivery.id, event: delivery.event, attempts: delivery.attempts, error: delivery.lastError });
      settle(run, pending, 'failed');
      return null;
    }
    return backoff;
  }
}

function giveUpAt(run: SessionRun, delivery: NotificationDelivery): number {
  const window = Date.parse(delivery.createdAt) + run.timing.notifyRetryWindow;
  return run.notifyEndedAt === null ? window : Math.min(window, run.notifyEndedAt + FINAL_WINDOW_MS);
}

function settle(run: SessionRun, pending: Pending, outcome: 'delivered' | 'failed' | 'superseded', why?: string): void {
  const { delivery } = pending;
  delivery.outcome = outcome;
  if (why) delivery.lastError = `not attempted again: ${why}${delivery.lastError ? ` (last: ${delivery.lastError})` : ''}`.slice(0, 300);
  run.outbox.splice(run.outbox.indexOf(pending), 1);
  run.deliveries.delete(delivery.id);
  run.touch();
}
