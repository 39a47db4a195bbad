/**
 * The HeyGen job-slot governor's contract: its workflow type and id, the slot protocol's signals (both
 * directions), its state query and its input. Sessions, the governor, its activities and the API share
 * these; the workflow itself is in src/workflows/governor.ts.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

export interface SlotRequest {
  /** The session's workflow id. */
  sessionId: string;
  /** Tenants share slots fairly; sessions without a tenant count as one tenant of their own. */
  tenant: string | null;
  /** When the session started waiting (its start, for a first slot): the FIFO order, whenever it arrives. */
  requestedAt: string;
}

export interface SlotQueueSnapshot {
  /** Waiting requests, oldest `requestedAt` first. */
  waiting: SlotRequest[];
  /** Tenants with waiting requests, in the order they are served next. */
  rotation: string[];
}

export const GOVERNOR_WORKFLOW_TYPE = 'heygenGovernor';

/** The governor's workflow id for an account. */
export const governorWorkflowId = (account: string): string => `heygen-governor-${account}`;

export interface AcquireSlot {
  sessionId: string;
  tenant: string | null;
  /** When the session started waiting (ISO): its place in the FIFO order. */
  requestedAt: string;
  /** The slot count the asking worker is configured with (HEYGEN_MAX_CONCURRENT); the latest wins. */
  limit: number;
}
export interface ReleaseSlot {
  sessionId: string;
  reason: string;
}
export interface SlotGranted {
  grantedAt: string;
}
export interface QueuePosition {
  /** 1 = next. */
  position: number;
  queued: number;
}

// The slot protocol, both directions: sessions send the first two, the governor the last two.
export const acquireSlotSignal = defineSignal<[AcquireSlot]>('acquireSlot');
export const releaseSlotSignal = defineSignal<[ReleaseSlot]>('releaseSlot');
export const slotGrantedSignal = defineSignal<[SlotGranted]>('slotGranted');
export const queuePositionSignal = defineSignal<[QueuePosition]>('queuePosition');

export interface SlotHolder {
  sessionId: string;
  tenant: string | null;
  grantedAt: string;
}

export interface GovernorState {
  account: string;
  limit: number;
  holders: SlotHolder[];
  /** Waiting sessions in the order they will be served. */
  waiting: (SlotRequest & { position: number })[];
  granted: number;
  released: number;
  /** Slots taken back from holders that ended without releasing. */
  reclaimed: number;
  updatedAt: string;
}
export const governorStateQuery = defineQuery<GovernorState>('state');

export interface GovernorInput {
  account: string;
  limit: number;
  /** How often, while sessions wait and every slot is held, holders are checked for having ended. */
  reclaimCheckMs: number;
  /** Internal: what one run hands the next at continue-as-new. */
  carried?: {
    holders: SlotHolder[];
    queue: SlotQueueSnapshot;
    reported: [string, number][];
    counters: { granted: number; released: number; reclaimed: number };
  };
}
