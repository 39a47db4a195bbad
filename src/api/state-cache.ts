/**
 * The sessions' states the API has read, each with the version it was read at: the run and its history
 * length. A workflow's state changes only in a workflow task, and every task adds to its history, so an
 * unchanged history length means an unchanged state: a read then costs a describe (answered by the
 * Temporal server) instead of a query (answered by a worker, which replays the session if it is not in
 * its cache). Sessions parked for days are read without waking a worker at all.
 */
import type { SessionState } from '../contract/session';

export class StateCache {
  private readonly entries = new Map<string, { version: string; state: SessionState }>();

  constructor(private readonly maxEntries: number) {}

  static version(description: { runId: string; historyLength: number }): string {
    return `${description.runId}:${description.historyLength}`;
  }

  get(workflowId: string, version: string): SessionState | undefined {
    const entry = this.entries.get(workflowId);
    if (!entry || entry.version !== version) return undefined;
    // Most recently used last, so the oldest is evicted first.
    this.entries.delete(workflowId);
    this.entries.set(workflowId, entry);
    return entry.state;
  }

  set(workflowId: string, version: string, state: SessionState): void {
    this.entries.delete(workflowId);
    this.entries.set(workflowId, { version, state });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
