/**
 * The phases a session may go to from each phase: declared once, here. Every phase change the workflow
 * makes is checked against this table (src/workflows/session/phases.ts), and docs/session-workflow.md
 * shows it; test/workflows/transitions.test.ts walks it.
 *
 * Any phase that is not final may fail (a bug, HeyGen refusing us) or be stopped (the workflow
 * cancelled). `archive_failed` is final for readers, yet the workflow waits in it for `retryArchive`.
 */
import type { Phase } from '../../contract/session';

export const PHASE_TRANSITIONS = {
  /** Waiting for one of the account's HeyGen job slots. */
  queued: ['creating', 'expired', 'failed', 'stopped'],
  /** Creating the HeyGen session (a slot asked for first: `queued` while none is free). */
  creating: ['queued', 'thinking', 'generating', 'expired', 'failed', 'stopped'],
  /** HeyGen works; we follow it until it pauses at a checkpoint, completes or fails. */
  thinking: ['generating', 'reviewing', 'waiting_for_input', 'finalizing', 'failed', 'stopped'],
  generating: ['thinking', 'reviewing', 'waiting_for_input', 'finalizing', 'failed', 'stopped'],
  /** Checkpoints: a decision (or the deadline) sends HeyGen back to work; `expired` when the deadline stops it. */
  reviewing: ['thinking', 'generating', 'expired', 'failed', 'stopped'],
  waiting_for_input: ['thinking', 'generating', 'expired', 'failed', 'stopped'],
  /** Reading the finished video; sessions started before archival complete from here. */
  finalizing: ['archiving', 'completed', 'failed', 'stopped'],
  archiving: ['completed', 'archive_failed', 'failed', 'stopped'],
  archive_failed: ['archiving', 'stopped'],
  completed: [],
  failed: [],
  stopped: [],
  expired: [],
} as const satisfies Record<Phase, readonly Phase[]>;

export function isAllowedTransition(from: Phase, to: Phase): boolean {
  return (PHASE_TRANSITIONS[from] as readonly Phase[]).includes(to);
}
