/**
 * Activities around the concurrency governor: asking the account's governor for a job slot (starting
 * the governor if it does not run yet), and finding slot holders that ended without giving theirs back.
 * They talk to Temporal, not HeyGen; the account is a fingerprint, never the key.
 */
import { createHash } from 'node:crypto';
import { activityInfo } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from '../logging';
import {
  acquireSlotSignal,
  GOVERNOR_WORKFLOW_TYPE,
  governorWorkflowId,
  releaseSlotSignal,
  type AcquireSlot,
  type GovernorInput,
  type ReleaseSlot,
  type SlotHolder,
  type SlotRequest,
} from '../contract/governor';
import { SESSION_WORKFLOW_TYPE, stateQuery } from '../contract/session';

export interface GovernorSettings {
  /** Slots per account (HEYGEN_MAX_CONCURRENT); 0 turns the governor off. */
  maxConcurrent: number;
  /** Whether a session parked at a checkpoint keeps its slot (HEYGEN_HOLD_SLOT_IN_REVIEW). */
  holdSlotWhileParked: boolean;
  reclaimCheckMs: number;
}

export interface GovernorActivityDeps {
  client: Client;
  /** Identifies the HeyGen account: see {@link heygenAccountId}. */
  account: string;
  settings: GovernorSettings;
  logger: Logger;
}

/** Sessions asked at once while a fresh governor rebuilds its holders and queue. */
const QUERIES_AT_ONCE = 10;

/** What the running sessions say of their slots: the holders and the queue a fresh governor starts from. */
export interface SlotSessions {
  holders: SlotHolder[];
  waiting: SlotRequest[];
}

export type SlotTicket =
  | { governed: false }
  | { governed: true; account: string; governorId: string; holdSlotWhileParked: boolean };

/** A HeyGen account's name in workflow ids and state: a fingerprint of where we call and with which key. */
export function heygenAccountId(baseUrl: string, apiKey: string): string {
  return createHash('sha256').update(`${baseUrl}\n${apiKey}`).digest('hex').slice(0, 16);
}

export function createGovernorActivities({ client, account, settings, logger }: GovernorActivityDeps) {
  /** Puts the session in the account's queue (idempotent: asking again while queued or holding is harmless). */
const requestHeyGenSlot = async (input: { sessionId: string; tenant: string | null; requestedAt: string }): Promise<SlotTicket> => {
    if (settings.maxConcurrent === 0) return { governed: false };
    const governorId = governorWorkflowId(account);
    await client.workflow.signalWithStart<(input: GovernorInput) => Promise<void>, [AcquireSlot]>(GOVERNOR_WORKFLOW_TYPE, {
      workflowId: governorId,
      taskQueue: activityInfo().taskQueue,
      args: [{ account, limit: settings.maxConcurrent, reclaimCheckMs: settings.reclaimCheckMs }],
      signal: acquireSlotSignal,
      signalArgs: [{ sessionId: input.sessionId, tenant: input.tenant, requestedAt: input.requestedAt, limit: settings.maxConcurrent }],
      staticSummary: `HeyGen job slots of account ${account}`,
    });
    return { governed: true, account, governorId, holdSlotWhileParked: settings.holdSlotWhileParked };
  };

  return {
    requestHeyGenSlot,

    /**
     * Starts the account's governor if none runs (an operator ended it) and gives it a released slot: the
     * fresh governor rebuilds its holders and queue from the sessions, so those waiting are served.
     */
    async releaseHeyGenSlot(input: ReleaseSlot): Promise<void> {
      await client.workflow.signalWithStart<(input: GovernorInput) => Promise<void>, [ReleaseSlot]>(GOVERNOR_WORKFLOW_TYPE, {
        workflowId: governorWorkflowId(account),
        taskQueue: activityInfo().taskQueue,
        args: [{ account, limit: settings.maxConcurrent, reclaimCheckMs: settings.reclaimCheckMs }],
        signal: releaseSlotSignal,
        signalArgs: [input],
        staticSummary: `HeyGen job slots of account ${account}`,
      });
    },

    /**
     * The running sessions of this task queue that hold one of the account's slots or wait for one, as
     * each session's own state says: what a governor that starts afresh (a first start, or after an
     * operator terminated the last one) rebuilds its holders and queue from. A session that cannot answer
     * is left out; it asks again while it waits, and a holder's release is harmless to a governor that
     * does not know it.
     */
    async findSlotSessions(): Promise<SlotSessions> {
      const query = `WorkflowType = '${SESSION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND TaskQueue = '${activityInfo().taskQueue}'`;
      const ids: string[] = [];
      for await (const execution of client.workflow.list({ query })) ids.push(execution.workflowId);
      const found: SlotSessions = { holders: [], waiting: [] };
      for (let start = 0; start < ids.length; start += QUERIES_AT_ONCE) {
        const states = await Promise.all(
          ids.slice(start, start + QUERIES_AT_ONCE).map((id) =>
            client.workflow
              .getHandle(id)
              .query(stateQuery)
              .catch((error: unknown) => {
                logger.warn({ sessionId: id, error: String(error) }, 'a session could not say whether it holds a slot');
                return null;
              }),
          ),
        );
        for (const state of states) {
          if (!state) continue;
          const { slot, slotSince } = state.heygen;
          const since = slotSince ?? state.createdAt;
          if (slot === 'held') found.holders.push({ sessionId: state.id, tenant: state.tenant, grantedAt: since });
          // A waiting session names its account; one of another account is another governor's.
          else if (slot === 'waiting' && (state.queue?.account ?? account) === account) {
            found.waiting.push({ sessionId: state.id, tenant: state.tenant, requestedAt: state.queue?.since ?? since });
          }
        }
      }
      logger.info({ holders: found.holders.length, waiting: found.waiting.length }, 'slot holders and waiting sessions found for a fresh governor');
      return found;
    },

    /** The sessions among these that no longer run (closed in any way, or gone). */
    async findEndedSessions(input: { sessionIds: string[] }): Promise<string[]> {
      const ended: string[] = [];
      for (const sessionId of input.sessionIds) {
        try {
          const description = await client.workflow.getHandle(sessionId).describe();
          if (description.status.name !== 'RUNNING') ended.push(sessionId);
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
          ended.push(sessionId);
        }
      }
      if (ended.length) logger.info({ ended }, 'slot holders that ended without releasing');
      return ended;
    },
  };
}

export type GovernorActivities = ReturnType<typeof createGovernorActivities>;
