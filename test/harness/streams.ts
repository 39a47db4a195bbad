/**
 * A reader of the API's live event streams over real HTTP (`GET /v1/sessions/:id/events`), for tests
 * that open many at once: how each was answered, the events as they arrive, and how it ended.
 */
import type { Client } from '@temporalio/client';
import { readEventStream } from '../../src/contract/event-stream';

export interface StreamEvent {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

export interface OpenedStream {
  /** The answer's status, headers and (when not 200) body. */
  status: number;
  headers: Headers;
  body?: { error?: { code?: string; message?: string } };
  /** Filled as events arrive (200 only). */
  events: StreamEvent[];
  /** Settles when the server ends the stream (or `stop` aborts it). */
  ended: Promise<void>;
  isEnded: () => boolean;
  stop: () => void;
}

/** Opens a stream and resolves once it is answered: a 200 keeps being read in the background. */
export async function openStream(url: string, bearer: string): Promise<OpenedStream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { authorization: `Bearer ${bearer}`, accept: 'text/event-stream' }, signal: controller.signal });
  const events: StreamEvent[] = [];
  let done = false;
  if (response.status !== 200) {
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as OpenedStream['body']) : undefined, events, ended: Promise.resolve(), isEnded: () => true, stop: () => undefined };
  }
  const ended = (async () => {
    try {
      for await (const event of readEventStream(response.body as unknown as AsyncIterable<Uint8Array>)) events.push(event as StreamEvent);
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    } finally {
      done = true;
    }
  })();
  return { status: 200, headers: response.headers, events, ended, isEnded: () => done, stop: () => controller.abort() };
}

/**
 * Counts the reads of session state the API makes at Temporal (describe and query, the two calls a
 * stream's read is made of), by wrapping its client's gRPC service. `restore` puts the originals back.
 */
export function countTemporalReads(client: Client): { count: () => number; restore: () => void } {
  const service = client.workflowService as unknown as Record<string, (...args: unknown[]) => unknown>;
  const names = ['describeWorkflowExecution', 'queryWorkflow'] as const;
  const originals = names.map((name) => service[name]!);
  let count = 0;
  names.forEach((name, index) => {
    const original = originals[index]!;
    service[name] = function counted(this: unknown, ...args: unknown[]) {
      count += 1;
      return original.apply(this, args);
    };
  });
  return {
    count: () => count,
    restore: () => names.forEach((name, index) => (service[name] = originals[index]!)),
  };
}
