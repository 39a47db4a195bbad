/**
 * Notifications to the caller: delivered in the background, never in the session's way. Each attempt
 * lands in the state's delivery log; a delivery still retrying at continue-as-new goes on in the next run.
 */
import * as wf from '@temporalio/workflow';
import { sessionLinks, type NotificationDelivery, type NotifyEvent } from '../../contract/session';
import { iso, type SessionRun } from './context';
import { applicationCause, describeFailure, httpStatusOf } from './failures';

/** Notifications kept in the state's delivery log. */
const MAX_NOTIFICATIONS = 50;
/** The longest wait between two attempts of one notification. */
const NOTIFY_MAX_BACKOFF_MS = 3_600_000;

export function notify(run: SessionRun, event: NotifyEvent): void {
  const { notify: target, autoApprove } = run.input;
  if (!target || (target.events && !target.events.includes(event))) return;
  // Nobody is asked to decide anything in a session that approves itself.
  if (autoApprove && (event === 'session.awaiting_review' || event === 'session.awaiting_answer')) return;
  const delivery: NotificationDelivery = {
    id: `evt-${wf.workflowInfo().firstExecutionRunId}-${++run.notificationSeq}`,
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
  deliver(run, delivery, JSON.stringify(notificationBody(run, delivery)));
}

/** After continue-as-new: the deliveries the previous run was still retrying. */
export function resumeDeliveries(run: SessionRun): void {
  for (const pending of run.carriedNotifications) {
    const delivery = run.state.notifications.find((d) => d.id === pending.id);
    if (delivery) deliver(run, delivery, pending.body);
  }
}

/** At the end: the session's phase is final already; its last notifications get their retry window. */
export async function deliveriesSettled(run: SessionRun): Promise<void> {
  while (run.deliveries.size > 0) await Promise.all([...run.deliveries.values()].map((d) => d.done));
}

function notificationBody(run: SessionRun, delivery: NotificationDelivery) {
  const { id, phase, phaseSince, heygenSessionId, promptSummary, requestedBy, tenant, labels, revisions, progress, queue, review, video, error, completedAt } = run.state;
  return {
    type: delivery.event,
    timestamp: delivery.createdAt,
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
