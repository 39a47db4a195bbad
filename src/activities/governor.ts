/**
 * Activities around the concurrency governor: asking the account's governor for a job slot (starting
 * the governor if it does not run yet), and finding slot holders that ended without giving theirs back.
 * They talk to Temporal, not HeyGen; the account is a fingerprint, never the key.
 */
import { createHash } from 'node:crypto';
import { activityInfo } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from '../logging';
import { acquireSlotSignal, GOVERNOR_WORKFLOW_TYPE, governorWorkflowId, type AcquireSlot, type GovernorInput } from '../contract/governor';

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

export type SlotTicket =
  | { governed: false }
  | { governed: true; account: string; governorId: string; holdSlotWhileParked: boolean };

/** A HeyGen account's name in workflow ids and state: a fingerprint of where we call and with which key. */
export function heygenAccountId(baseUrl: string, apiKey: string): string {
  return createHash('sha256').update(`${baseUrl}\n${apiKey}`).digest('hex').slice(0, 16);
}

export function createGovernorActivities({ client, account, settings, logger }: GovernorActivityDeps) {
  return {
    /** Puts the session in the account's queue (idempotent: asking again while queued or holding is harmless). */
    async requestHeyGenSlot(input: { sessionId: string; tenant: string | null; requestedAt: string }): Promise<SlotTicket> {
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
