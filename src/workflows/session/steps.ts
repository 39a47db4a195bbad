/**
 * What a phase's step returns: the phase to go to next (its own to stay), or how the session ends.
 * Endings are values, not exceptions; the one exception is {@link SessionEnding}, for an ending decided
 * inside a HeyGen call (HeyGen unreachable until the deadline), which the run loop turns into its ending.
 */
import type { Phase } from '../../contract/session';

export type Ending =
  | { end: 'completed' }
  /** The workflow ends in `archive_failed`: nobody asked for another try in time. */
  | { end: 'archive_failed' }
  | UnsuccessfulEnding;

export interface UnsuccessfulEnding {
  end: 'failed' | 'expired';
  reason: string;
  type: string;
}

export type Step = Phase | Ending;

export function isEnding(step: Step): step is Ending {
  return typeof step === 'object';
}

export function failed(reason: string, type: string): UnsuccessfulEnding {
  return { end: 'failed', reason, type };
}

export function expired(reason: string, type: string): UnsuccessfulEnding {
  return { end: 'expired', reason, type };
}

/** Thrown where a step cannot return: an ending decided inside a call the step made. */
export class SessionEnding extends Error {
  constructor(readonly ending: UnsuccessfulEnding) {
    super(ending.reason);
    this.name = 'SessionEnding';
  }
}
