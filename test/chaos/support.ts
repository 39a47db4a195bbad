/**
 * Shared by the chaos scenarios (test/chaos/*.chaos.ts): reading the governor's grant order from its
 * history, the Web UI status line of a session, and a one-line summary per scenario.
 */
import type { Client } from '@temporalio/client';
import { heygenAccountId } from '../../src/activities/governor';
import type { SessionHandle } from '../../src/temporal/sessions';
import { governorWorkflowId } from '../../src/contract/governor';
import type { SessionHarness } from '../harness/sessions';

/** The workflow id of the governor that hands out the harness simulator's slots. */
export function governorIdOf(h: SessionHarness): string {
  return governorWorkflowId(heygenAccountId(h.config.heygen.baseUrl, h.config.heygen.apiKey));
}

export interface GovernorLog {
  /** Session ids in the order their acquireSlot signals reached the governor (first ask only). */
  arrivals: string[];
  /** Session ids in the order the governor granted them a slot (first grant only). */
  grants: string[];
  runs: number;
}

function decodeFirst(payloads: { data?: Uint8Array | null }[] | null | undefined): unknown {
  const data = payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as unknown) : undefined;
}

/**
 * The governor's arrivals and grants, over every run of it (walked back through continue-as-new).
 * Grants are its `slotGranted` signal commands, issued in the order the governor granted. (How the two
 * interleave is not told by the history: a signal that arrives while a workflow task runs is recorded
 * before that task's commands.)
 */
export async function governorLog(client: Client, governorId: string): Promise<GovernorLog> {
  const histories = [];
  let runId: string | undefined;
  for (;;) {
    const history = await client.workflow.getHandle(governorId, runId).fetchHistory();
    histories.unshift(history);
    const previous = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) break;
    runId = previous;
  }
  const arrivals: string[] = [];
  const grants: string[] = [];
  for (const history of histories) {
    for (const event of history.events ?? []) {
      const signaled = event.workflowExecutionSignaledEventAttributes;
      if (signaled?.signalName === 'acquireSlot') {
        const sessionId = (decodeFirst(signaled.input?.payloads) as { sessionId?: string } | undefined)?.sessionId;
        if (sessionId && !arrivals.includes(sessionId)) arrivals.push(sessionId);
      }
      const sent = event.signalExternalWorkflowExecutionInitiatedEventAttributes;
      if (sent?.signalName === 'slotGranted') {
        const sessionId = sent.workflowExecution?.workflowId;
        if (sessionId && !grants.includes(sessionId)) grants.push(sessionId);
      }
    }
  }
  return { arrivals, grants, runs: histories.length };
}

/** The live status line the Temporal Web UI shows for a workflow (`wf.setCurrentDetails`). */
export async function currentDetails(handle: SessionHandle): Promise<string> {
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

/** Pairs (earlier, later) of `expected` that appear in the opposite order in `actual`. */
export function inversions(expected: readonly string[], actual: readonly string[]): [string, string][] {
  const rank = new Map(actual.map((id, index) => [id, index]));
  const found: [string, string][] = [];
  for (let i = 0; i < expected.length; i++) {
    for (let j = i + 1; j < expected.length; j++) {
      const a = rank.get(expected[i]!);
      const b = rank.get(expected[j]!);
      if (a !== undefined && b !== undefined && a > b) found.push([expected[i]!, expected[j]!]);
    }
  }
  return found;
}

/** Prints the scenario's counts on one line (visible in the jest output). */
export function report(line: string): void {
  console.log(line);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
