/**
 * Phase `creating`: the HeyGen session is created once a job slot is held (phase `queued` while none is
 * free). The create is keyed by this execution, so however often it is retried HeyGen makes one session.
 * A stop while it waits between attempts (a 429, HeyGen unreachable) ends the session at once.
 */
import * as wf from '@temporalio/workflow';
import { HeyGenSessionId } from '../../contract/search-attributes';
import type { SessionRun } from './context';
import { callHeyGen } from './heygen-calls';
import { stopsWaitingCreate } from './legacy';
import { refreshDetails } from './phases';
import { requestSlot } from './slot';
import type { Step } from './steps';

export async function createStep(run: SessionRun): Promise<Step> {
  if (run.state.heygen.slot !== 'held' && (await requestSlot(run)) === 'wait') return 'queued';
  refreshDetails(run);
  const { state } = run;
  // A stop cancels the create between attempts (while it waits out a 429 or HeyGen being unreachable);
  // an attempt under way finishes (the activity ignores cancellation), so a session it made is known and
  // the ending stops it. Old runs ignored the stop until the create succeeded (legacy.ts).
  const stop = { requested: false };
  const created = await createUnlessStopped(run, stop);
  if (!created) throw new wf.CancelledFailure('stopped while creating the HeyGen session');
  state.heygenSessionId = created.sessionId;
  state.heygenStatus = created.status;
  run.callsBack = created.callsBack ?? false;
  wf.upsertSearchAttributes([{ key: HeyGenSessionId, value: created.sessionId }]);
  if (stop.requested) throw new wf.CancelledFailure('stopped while creating the HeyGen session');
  return created.status === 'generating' ? 'generating' : 'thinking';
}

type Created = Awaited<ReturnType<SessionRun['activities']['quickWrites']['createHeyGenSession']>>;

/**
 * The create, in a scope of its own that the session's cancellation cancels only through
 * {@link stopsWaitingCreate}. Null when the stop came first; the session when it was made, even after a stop
 * (`stop.requested` then says so).
 */
async function createUnlessStopped(run: SessionRun, stop: { requested: boolean }): Promise<Created | null> {
  const { input, state, timing } = run;
  const session = wf.CancellationScope.current();
  return wf.CancellationScope.nonCancellable(async () => {
    const scope = new wf.CancellationScope();
    let creating = true;
    session.cancelRequested.catch(() => {
      // A stop after the create is the other steps' to act on (and asks no patch here).
      if (!creating || !stopsWaitingCreate()) return;
      stop.requested = true;
      scope.cancel();
    });
    try {
      const created = await scope.run(() =>
        callHeyGen(
          run,
          'createHeyGenSession',
          [
            {
              prompt: input.prompt,
              avatarId: input.avatarId,
              voiceId: input.voiceId,
              orientation: input.orientation,
              files: input.files,
              autoProceed: input.autoApprove,
              callbackId: wf.workflowInfo().workflowId,
              idempotencyKey: run.idempotencyKey('create'),
            },
          ],
          { kind: 'write', deadline: Date.parse(state.createdAt) + timing.maxQueued, what: 'creating the session', onDeadline: 'expire', cancellationType: wf.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED },
        ),
      );
      creating = false;
      return created;
    } catch (error) {
      creating = false;
      // Whatever the cancelled create ended with (cancelled, or its last attempt's 429), the stop is the news.
      if (stop.requested) return null;
      throw error;
    }
  });
}
