/**
 * Storyboard images of the checkpoint in view: filled in as they are read, and read again in the
 * background while HeyGen has not given them yet, until the review deadline or the checkpoint's end.
 */
import * as wf from '@temporalio/workflow';
import { CHECKPOINT_PHASES, type ResourceInfo, type ReviewPacket } from '../../contract/session';
import { patientHeyGenActivities } from './activity-options';
import type { SessionRun } from './context';
import { describeFailure } from './failures';

export function pendingResource(resourceId: string, status: 'loading' | 'unavailable', note: string | null): ResourceInfo {
  return { resourceId, status, type: null, url: null, thumbnailUrl: null, previewUrl: null, note };
}

/** Keeps reading one image until it arrives, the review deadline passes or the checkpoint is over. Never throws. */
export function loadImageLater(run: SessionRun, packet: ReviewPacket, resourceId: string): void {
  run.imageLoads ??= new wf.CancellationScope();
  void run.imageLoads.run(async () => {
    try {
      const patient = patientHeyGenActivities(run.timing, 'read', Date.parse(packet.deadline) - Date.now());
      fillResource(run, packet, await patient.getHeyGenResource({ sessionId: run.sessionId(), resourceId }));
    } catch (error) {
      if (!wf.isCancellation(error)) fillResource(run, packet, pendingResource(resourceId, 'unavailable', describeFailure(error)));
    }
  });
}

export function stopImageLoads(run: SessionRun): void {
  run.imageLoads?.cancel();
  run.imageLoads = undefined;
}

/** After continue-as-new: images the previous run was still loading. */
export function resumeImageLoads(run: SessionRun): void {
  const packet = run.state.review;
  if (!packet || !CHECKPOINT_PHASES.includes(run.state.phase)) return;
  for (const resource of packet.resources) if (resource.status === 'loading') loadImageLater(run, packet, resource.resourceId);
}

export function fillResource(run: SessionRun, packet: ReviewPacket, resource: ResourceInfo): void {
  const index = packet.resources.findIndex((r) => r.resourceId === resource.resourceId);
  if (index >= 0) packet.resources[index] = resource;
  run.touch();
}
