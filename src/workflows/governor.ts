/**
 * `heygenGovernor`: one long-lived workflow per HeyGen account that hands out the account's job slots
 * (HeyGen runs at most N jobs at once per API key and refuses the rest with 429).
 *
 * Sessions ask for a slot with `acquireSlot` (sent with signal-with-start, so the governor exists once
 * anyone needs it), wait for `slotGranted`, and give the slot back with `releaseSlot` however they end.
 * A slot is never granted twice: this workflow is the only place that grants, one task at a time. A slot
 * is never leaked: a holder that ends without releasing (terminated, timed out, reset away) is found by a
 * periodic check while others wait, and a grant to a session that no longer runs is taken back at once.
 * Waiters are served FIFO within a tenant and round robin across tenants ({@link SlotQueue}), and are told
 * their position as it changes. The governor continues as new when its history grows. After every change
 * it sets its gauges (slots in use, the limit, sessions waiting: src/workflows/metrics.ts).
 *
 * A governor that starts afresh (its first start, or after an operator terminated the last one) does not
 * trust that nobody holds a slot: before it grants anything it asks the running sessions which hold one
 * and which wait, and starts from that. Requests that arrive meanwhile wait their turn in the queue.
 */
import * as wf from '@temporalio/workflow';
import type { GovernorActivities } from '../activities/governor';
import {
  acquireSlotSignal,
  governorStateQuery,
  queuePositionSignal,
  releaseSlotSignal,
  slotGrantedSignal,
  type GovernorInput,
  type SlotHolder,
} from '../contract/governor';
import { setGovernorGauges } from './metrics';
import { governorRebuildsOnFreshStart } from './session/legacy';
import { SlotQueue } from './slot-queue';
import { whenVersioned } from './versioning';

/** Positions are pushed to this many waiters at most; the rest learn theirs as they move up. */
const POSITION_UPDATES_LIMIT = 100;

export async function heygenGovernor(input: GovernorInput): Promise<void> {
  const { account, reclaimCheckMs } = input;
  let limit = input.limit;
  const holders = new Map((input.carried?.holders ?? []).map((holder) => [holder.sessionId, holder]));
  const queue = new SlotQueue(input.carried?.queue);
  /** The position each waiter was last told, so only changes are sent. */
  const reported = new Map(input.carried?.reported ?? []);
  const counters = { granted: 0, released: 0, reclaimed: 0, ...input.carried?.counters };
  /** Sessions that gave their slot back while a fresh governor asked the sessions (their answer may predate it). */
  let releasedWhileRebuilding: Set<string> | undefined;
  /** Holders that asked again (a reset or retried session): they are told again that they hold a slot. */
  const regrant = new Set<string>();
  let changed = true;
  const activities = wf.proxyActivities<GovernorActivities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1s', maximumInterval: '30s' },
  });
  // Asks every running session of the task queue: minutes, with many.
  const rebuildActivities = wf.proxyActivities<GovernorActivities>({
    startToCloseTimeout: '10 minutes',
    retry: { initialInterval: '1s', maximumInterval: '30s' },
  });

  wf.setHandler(acquireSlotSignal, (request) => {
    limit = request.limit;
    if (holders.has(request.sessionId)) regrant.add(request.sessionId);
    else queue.enqueue({ sessionId: request.sessionId, tenant: request.tenant, requestedAt: request.requestedAt });
    changed = true;
  });
  wf.setHandler(releaseSlotSignal, ({ sessionId }) => {
    releasedWhileRebuilding?.add(sessionId);
    if (holders.delete(sessionId)) counters.released++;
    queue.remove(sessionId);
    reported.delete(sessionId);
    changed = true;
  });
  wf.setHandler(governorStateQuery, () => ({
    account,
    limit,
    holders: [...holders.values()],
    waiting: queue.order().map((request, index) => ({ ...request, position: index + 1 })),
    ...counters,
    updatedAt: new Date().toISOString(),
  }));

  const signalSession = async (sessionId: string, send: (handle: wf.ExternalWorkflowHandle) => Promise<void>): Promise<boolean> => {
    try {
      await send(wf.getExternalWorkflowHandle(sessionId));
      return true;
    } catch (error) {
      wf.log.warn('session could not be signalled; it no longer runs', { sessionId, error: String(error) });
      return false;
    }
  };

  const reclaim = (sessionId: string, why: string) => {
    if (!holders.delete(sessionId)) return;
    counters.reclaimed++;
    wf.log.info('slot reclaimed', { sessionId, why });
  };

  const grant = async () => {
    const grants: Promise<void>[] = [];
    for (let next = holders.size < limit ? queue.next() : undefined; next; next = holders.size < limit ? queue.next() : undefined) {
      const holder: SlotHolder = { sessionId: next.sessionId, tenant: next.tenant, grantedAt: new Date().toISOString() };
      holders.set(holder.sessionId, holder);
      reported.delete(holder.sessionId);
      counters.granted++;
      regrant.delete(holder.sessionId);
      grants.push(notifyGranted(holder));
    }
    for (const sessionId of regrant) {
      const holder = holders.get(sessionId);
      if (holder) grants.push(notifyGranted(holder));
    }
    regrant.clear();
    await Promise.all(grants);
  };
  const notifyGranted = async (holder: SlotHolder) => {
    const delivered = await signalSession(holder.sessionId, (handle) => handle.signal(slotGrantedSignal, { grantedAt: holder.grantedAt }));
    if (!delivered) {
      reclaim(holder.sessionId, 'the session ended before it was granted');
      changed = true;
    }
  };

  const reportPositions = async () => {
    const order = queue.order();
    const updates: Promise<void>[] = [];
    for (const [index, request] of order.slice(0, POSITION_UPDATES_LIMIT).entries()) {
      const position = index + 1;
      if (reported.get(request.sessionId) === position) continue;
      reported.set(request.sessionId, position);
      updates.push(
        signalSession(request.sessionId, (handle) => handle.signal(queuePositionSignal, { position, queued: order.length })).then((delivered) => {
          if (delivered) return;
          queue.remove(request.sessionId);
          reported.delete(request.sessionId);
          changed = true;
        }),
      );
    }
    await Promise.all(updates);
  };

  /** Holders and waiters from the sessions themselves, for a governor with nothing carried over. */
  const rebuild = async () => {
    releasedWhileRebuilding = new Set();
    const found = await rebuildActivities.findSlotSessions();
    const released = releasedWhileRebuilding;
    releasedWhileRebuilding = undefined;
    for (const holder of found.holders) {
      if (released.has(holder.sessionId)) continue;
      queue.remove(holder.sessionId);
      if (!holders.has(holder.sessionId)) holders.set(holder.sessionId, holder);
    }
    for (const request of found.waiting) if (!holders.has(request.sessionId) && !released.has(request.sessionId)) queue.enqueue(request);
    wf.log.info('holders and queue rebuilt from the sessions', { holders: found.holders.length, waiting: found.waiting.length });
    changed = true;
  };

  const reclaimEndedHolders = async () => {
    const ended = await activities.findEndedSessions({ sessionIds: [...holders.keys()] });
    for (const sessionId of ended) reclaim(sessionId, 'the session ended without releasing its slot');
    if (ended.length) changed = true;
  };

  if (!input.carried && governorRebuildsOnFreshStart()) await rebuild();
  for (;;) {
    while (changed || regrant.size) {
      changed = false;
      await grant();
      await reportPositions();
    }
    setGovernorGauges({ account, limit, inUse: holders.size, queued: queue.size });
    if (wf.workflowInfo().continueAsNewSuggested) {
      await wf.condition(wf.allHandlersFinished);
      if (changed || regrant.size) continue;
      return wf.continueAsNew<typeof heygenGovernor>({
        account,
        limit,
        reclaimCheckMs,
        carried: { holders: [...holders.values()], queue: queue.snapshot(), reported: [...reported], counters },
      });
    }
    const starved = queue.size > 0 && holders.size >= limit;
    const woken = starved
      ? await wf.condition(() => changed || regrant.size > 0, reclaimCheckMs, { summary: 'wait for a release, or check holders' })
      : await wf.condition(() => changed || regrant.size > 0 || wf.workflowInfo().continueAsNewSuggested).then(() => true);
    if (!woken) await reclaimEndedHolders();
  }
}

// Long-lived (it continues as new for ever), so it must not hold a build: it moves to the current build at
// its next task. Its changes therefore go behind patches, and its signals stay compatible across builds.
wf.setWorkflowOptions(whenVersioned('AUTO_UPGRADE'), heygenGovernor);
