/**
 * Notifications to the caller: delivered in the background, never in the session's way. Each attempt
 * lands in the state's delivery log; a delivery still retrying at continue-as-new goes on in the next run.
 * Since `notify-in-order` they go one at a time, in sequence order (notify-courier.ts); the old shape below
 * retried each on its own.
 */
import * as wf from '@temporalio/workflow';
import { sessionLinks, type NotificationDelivery, type NotifyEvent } from '../../contract/session';
import { iso, type SessionRun } from './context';
import { applicationCause, describeFailure, httpStatusOf } from './failures';
import { notifiesInOrder } from './legacy';
import { sendInOrder, settleInOrder } from './notify-courier';

/** Notifications kept in the state's delivery log. */
const MAX_NOTIFICATIONS = 50;
/** The longest wait between two attempts of one notification. */
const NOTIFY_MAX_BACKOFF_MS = 3_600_000;

export function notify(run: SessionRun, event: NotifyEvent): void {
  const { notify: target, autoApprove } = run.input;
  if (!target || (target.events && !target.events.includes(event))) return;
  // Nobody is asked to decide anything in a session that approves itself.
  if (autoApprove && (event === 'session.awaiting_review' || event === 'session.awaiting_answer')) return;
  const sequence = ++run.notificationSeq;
  const delivery: NotificationDelivery = {
    id: `evt-${wf.workflowInfo().firstExecutionRunId}-${sequence}`,
    event,
    createdAt: iso(Date.now()),
    outcome: 'pending',
    attempts: 0,
    lastStatus: null,
    lastError: null,
    deliveredAt: null,
  };
  const log = run.state.notifications;
  log.push(delivery);
  if (log.length > MAX_NOTIFICATIONS) log.splice(0, log.length - MAX_NOTIFICATIONS);
  const body = JSON.stringify(notificationBody(run, delivery, sequence));
  if (notifiesInOrder()) sendInOrder(run, delivery, body, sequence);
  else deliver(run, delivery, body);
}

/** After continue-as-new: the deliveries the previous run was still retrying. */
export function resumeDeliveries(run: SessionRun): void {
  const carried = run.carriedNotifications.flatMap((pending) => {
    const delivery = run.state.notifications.find((d) => d.id === pending.id);
    return delivery ? [{ delivery, body: pending.body }] : [];
  });
  if (carried.length === 0) return;
  const inOrder = notifiesInOrder();
  for (const { delivery, body } of carried) {
    if (inOrder) sendInOrder(run, delivery, body, sequenceOf(delivery.id));
    else deliver(run, delivery, body);
  }
}

/** A notification's sequence number, the last part of its id (`evt-<run>-<n>`). */
function sequenceOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('-') + 1)) || 0;
}

/** At the end: the session's phase is final already; its last notifications get their retry window. */
export async function deliveriesSettled(run: SessionRun): Promise<void> {
  if (run.courier || run.outbox.length > 0) return settleInOrder(run);
  while (run.deliveries.size > 0) await Promise.all([...run.deliveries.values()].map((d) => d.done));
}

function notificationBody(run: SessionRun, delivery: NotificationDelivery, sequence: number) {
  const { id, phase, phaseSince, heygenSessionId, promptSummary, requestedBy, tenant, labels, revisions, progress, queue, review, video, error, completedAt } = run.state;
  return {
    type: delivery.event,
    timestamp: delivery.createdAt,
    /** Counts the session's notifications from 1: a receiver keeps the highest it has seen and drops lower ones. */
    sequence,
    data: {
      session: { id, phase, phaseSince, heygenSessionId, promptSummary, requestedBy, tenant, labels, revisions, progress, queue, review, video, error, completedAt },
      links: sessionLinks(id),
    },
  };
}

/** Attempts until delivered, refused, or past the retry window; each attempt lands in the log. */
function deliver(run: SessionRun, delivery: NotificationDelivery, body: string): void {
  const { timing, input } = run;
  const giveUpAt = Date.parse(delivery.createdAt) + timing.notifyRetryWindow;
  const done = wf.CancellationScope.nonCancellable(async () => {
    let backoff = timing.notifyRetryInitial;
    for (;;) {
      delivery.attempts++;
      try {
        const { status } = await run.activities.notifier.deliverNotification({ url: input.notify!.url, id: delivery.id, body, signedBy: input.requestedBy ?? '' });
        Object.assign(delivery, { outcome: 'delivered', lastStatus: status, lastError: null, deliveredAt: iso(Date.now()) });
        return;
      } catch (error) {
        Object.assign(delivery, { lastStatus: httpStatusOf(error) ?? null, lastError: describeFailure(error).slice(0, 300) });
        if (applicationCause(error)?.nonRetryable || Date.now() + backoff > giveUpAt) {
          delivery.outcome = 'failed';
          wf.log.warn('notification given up', { id: delivery.id, event: delivery.event, attempts: delivery.attempts, error: delivery.lastError });
          return;
        }
      } finally {
        run.touch();
      }
      await wf.sleep(backoff);
      backoff = Math.min(backoff * 2, NOTIFY_MAX_BACKOFF_MS);
    }
  }).finally(() => run.deliveries.delete(delivery.id));
  run.deliveries.set(delivery.id, { body, done });
}
