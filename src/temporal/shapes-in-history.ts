/**
 * Which old shapes of the session workflow (src/contract/workflow-shapes.ts) a run's history took: what
 * `npm run sessions:legacy` reads for each open session. A run that took an old shape replays only on code
 * that still has it; a run that carries a patch's marker replays only on code that still asks the patch
 * (`patched` or `deprecatePatch`). Pure: a history in, a verdict per shape out.
 */
import { temporal } from '@temporalio/proto';
import { WORKFLOW_SHAPES, type OldShapeEvidence, type WorkflowShapeName } from '../contract/workflow-shapes';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const { EventType } = temporal.api.enums.v1;
/** The marker the TypeScript SDK (Core) records for `patched` and `deprecatePatch`. */
const PATCH_MARKER = 'core_patch';

/**
 * - `old-shape`: the run took the old shape;
 * - `marker`: it took the new one and recorded the patch's marker;
 * - `not-yet`: it has not come to the patch (it will take the new shape when it does).
 */
export type ShapeInHistory = 'old-shape' | 'marker' | 'not-yet';

export function shapesInHistory(events: HistoryEvent[]): Record<WorkflowShapeName, ShapeInHistory> {
  const markers = patchMarkers(events);
  const verdicts = {} as Record<WorkflowShapeName, ShapeInHistory>;
  for (const [name, shape] of Object.entries(WORKFLOW_SHAPES) as [WorkflowShapeName, (typeof WORKFLOW_SHAPES)[WorkflowShapeName]][]) {
    if (markers.has(shape.patchId)) verdicts[name] = 'marker';
    else verdicts[name] = tookOldShape(events, shape.oldShapeEvidence) ? 'old-shape' : 'not-yet';
  }
  return verdicts;
}

/** The patch ids whose markers the history holds. */
function patchMarkers(events: HistoryEvent[]): Set<string> {
  const ids = new Set<string>();
  for (const event of events) {
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName !== PATCH_MARKER) continue;
    const payload = marker.details?.['patch-data']?.payloads?.[0]?.data;
    if (!payload) continue;
    try {
      const { id } = JSON.parse(Buffer.from(payload).toString('utf8')) as { id?: unknown };
      if (typeof id === 'string') ids.add(id);
    } catch {
      // A marker we cannot read names no patch of ours.
    }
  }
  return ids;
}

function tookOldShape(events: HistoryEvent[], evidence: OldShapeEvidence): boolean {
  switch (evidence.kind) {
    case 'activity':
      return events.some((event) => activityName(event) === evidence.activity);
    case 'signal-during-activity':
      return eventWhileActivityOpen(events, (event) => event.workflowExecutionSignaledEventAttributes?.signalName === evidence.signal, evidence.activity);
    case 'cancel-during-activity':
      return eventWhileActivityOpen(events, (event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, evidence.activity);
    case 'failed-signal':
      return signalFailed(events, evidence.signal);
    case 'at-completion':
      // Asked at the last step: a run that completed without the marker took the old shape; an open one has not come to it.
      return events.some((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  }
}

/** A signal of this name to another workflow failed (the workflow no longer ran). */
function signalFailed(events: HistoryEvent[], signal: string): boolean {
  const initiated = new Set<string>();
  for (const event of events) {
    if (event.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === signal) initiated.add(String(event.eventId ?? ''));
    const failed = event.signalExternalWorkflowExecutionFailedEventAttributes;
    if (failed && initiated.has(String(failed.initiatedEventId ?? ''))) return true;
  }
  return false;
}

function activityName(event: HistoryEvent): string | null | undefined {
  return event.activityTaskScheduledEventAttributes?.activityType?.name;
}

/**
 * The event (a signal, a cancellation request) came between the activity's scheduling and the workflow task that acted on its result (a
 * signal in that task's batch is delivered before the result). Counts every such run, so it may count a
 * run that took neither shape (a webhook that came with a failed read, say): never one too few.
 */
function eventWhileActivityOpen(events: HistoryEvent[], matches: (event: HistoryEvent) => boolean, activity: string): boolean {
  const open = new Set<string>();
  const closedAwaitingTask = new Set<string>();
  for (const event of events) {
    const id = String(event.eventId ?? '');
    if (activityName(event) === activity) open.add(id);
    const closedId = closedActivityId(event);
    if (closedId && open.delete(closedId)) closedAwaitingTask.add(closedId);
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) closedAwaitingTask.clear();
    if (matches(event) && (open.size > 0 || closedAwaitingTask.size > 0)) return true;
  }
  return false;
}

/** For an activity's closing event, the id of the event that scheduled it. */
function closedActivityId(event: HistoryEvent): string | null {
  const closed =
    event.activityTaskCompletedEventAttributes ??
    event.activityTaskFailedEventAttributes ??
    event.activityTaskTimedOutEventAttributes ??
    event.activityTaskCanceledEventAttributes;
  return closed?.scheduledEventId ? String(closed.scheduledEventId) : null;
}
