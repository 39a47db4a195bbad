/**
 * Phase `creating`: the HeyGen session is created once a job slot is held (phase `queued` while none is
 * free). The create is keyed by this execution, so however often it is retried HeyGen makes one session.
 */
import * as wf from '@temporalio/workflow';
import { HeyGenSessionId } from '../../contract/search-attributes';
import type { SessionRun } from './context';
import { callHeyGen } from './heygen-calls';
import { refreshDetails } from './phases';
import { requestSlot } from './slot';
import type { Step } from './steps';

export async function createStep(run: SessionRun): Promise<Step> {
  if (run.state.heygen.slot !== 'held' && (await requestSlot(run)) === 'wait') return 'queued';
  refreshDetails(run);
  const { input, state, timing } = run;
  // Not cancellable: a create cut short could leave a paid session we never learn about, so it
  // finishes and a cancellation then stops the session it made. A 429 (the account's cap reached by
  // jobs we do not govern) is retried after Retry-After until the queue deadline.
  const created = await wf.CancellationScope.nonCancellable(() =>
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
      { kind: 'write', deadline: Date.parse(state.createdAt) + timing.maxQueued, what: 'creating the session', onDeadline: 'expire' },
    ),
  );
  state.heygenSessionId = created.sessionId;
  state.heygenStatus = created.status;
  run.callsBack = created.callsBack ?? false;
  wf.upsertSearchAttributes([{ key: HeyGenSessionId, value: created.sessionId }]);
  return created.status === 'generating' ? 'generating' : 'thinking';
}
