/**
 * A checkpoint's review packet: the agent's messages since the last checkpoint and its storyboard
 * images. The images are read in one activity; one that does not arrive in its quick tries is shown as
 * `loading` and keeps being read in the background, one HeyGen will not give is `unavailable`. Neither
 * holds up the review nor fails the session.
 */
import type { ResourceRead } from '../../activities';
import type { ReviewPacket } from '../../contract/session';
import { iso, type SessionRun } from './context';
import { fillResource, loadImageLater, pendingResource } from './images';
import { readResourcesOneByOne, resourcesInOneActivity } from './legacy';

export async function buildReviewPacket(run: SessionRun, kind: 'storyboard' | 'question'): Promise<void> {
  const { state } = run;
  const fresh = state.messages.filter((m) => m.seq > run.checkpointSeq && m.role === 'model');
  const resourceIds = [...new Set(fresh.flatMap((m) => m.resourceIds))];
  if (kind === 'storyboard') state.revisions++;
  const now = Date.now();
  run.checkpointSeq = run.nextSeq - 1;
  const packet: ReviewPacket = {
    kind,
    revision: state.revisions,
    messages: fresh,
    resources: resourceIds.map((resourceId) => pendingResource(resourceId, 'loading', null)),
    since: iso(now),
    deadline: iso(now + run.input.review.timeout),
  };
  state.review = packet;
  if (resourceIds.length > 0 && resourcesInOneActivity()) {
    const reads = await run.activities.quickReads.getHeyGenResources({ sessionId: run.sessionId(), resourceIds });
    for (const read of reads) fillFromRead(run, packet, read);
  } else {
    await readResourcesOneByOne(run, packet, resourceIds);
  }
  run.touch();
}

function fillFromRead(run: SessionRun, packet: ReviewPacket, read: ResourceRead): void {
  if ('resource' in read) return fillResource(run, packet, read.resource);
  if (read.transient) {
    fillResource(run, packet, pendingResource(read.resourceId, 'loading', `HeyGen did not answer yet (${read.error}); retrying`));
    loadImageLater(run, packet, read.resourceId);
  } else {
    fillResource(run, packet, pendingResource(read.resourceId, 'unavailable', read.error));
  }
}
