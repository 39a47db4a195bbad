/**
 * Where a session's notifications run: on a task queue of their own beside the session's, served by a
 * worker of their own (src/worker.ts) with slots of its own, so no receiver can take the slots sessions
 * need. The workflow and the worker derive the name the same way.
 */

/** The notifications task queue that goes with a session task queue. */
export function notificationTaskQueue(sessionTaskQueue: string): string {
  return `${sessionTaskQueue}-notifications`;
}

/** One delivery attempt's activity timeout; the worker's NOTIFY_TIMEOUT ends an attempt well before it. */
export const NOTIFY_ACTIVITY_TIMEOUT_MS = 30_000;
/** Heartbeat timeout of an attempt: it heartbeats while in flight, which is how a cancellation reaches it. */
export const NOTIFY_HEARTBEAT_TIMEOUT_MS = 5_000;
