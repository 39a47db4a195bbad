/**
 * Starting and addressing session workflows from any client (the API, tools, tests): one place that
 * sets the workflow type, the search attributes, the memo and the Web UI summary.
 */
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { VideoAgentRequestedBy, VideoAgentStatus, VideoAgentTenant } from '../contract/search-attributes';
import { formatDuration } from '../contract/duration';
import { SESSION_WORKFLOW_TYPE, summarizePrompt, type SessionInput, type VideoAgentSessionWorkflow } from '../contract/session';
import { SessionInputSchema } from '../contract/session-schemas';

export type SessionHandle = WorkflowHandle<VideoAgentSessionWorkflow>;

export interface StartSessionOptions {
  taskQueue: string;
  /** The session id; generated when omitted. */
  workflowId?: string;
  /** Kept in the memo so a repeated create (same id) can be told apart from a conflicting one. */
  requestHash?: string;
  /** Never start a second execution under this id, even after the first has closed. */
  rejectDuplicateId?: boolean;
}

export function newSessionId(): string {
  return `session-${randomUUID()}`;
}

/** The review policy in plain words, for people reading the Web UI. */
function reviewPolicyText(input: ReturnType<typeof SessionInputSchema.parse>): string {
  if (input.autoApprove) return 'none: every storyboard is approved automatically';
  const within = formatDuration(input.review.timeout);
  return input.review.onTimeout === 'approve'
    ? `a person approves each storyboard; with no decision within ${within}, it is approved automatically`
    : `a person approves each storyboard; with no decision within ${within}, the session is stopped`;
}

/** Validates the input (throwing a ZodError for a bad one) and starts the workflow. */
export async function startVideoAgentSession(client: Client, input: SessionInput, options: StartSessionOptions): Promise<SessionHandle> {
  const parsed = SessionInputSchema.parse(input);
  const summary = summarizePrompt(parsed.prompt, 120);
  const typedSearchAttributes: { key: typeof VideoAgentStatus; value: string }[] = [{ key: VideoAgentStatus, value: 'creating' }];
  if (parsed.requestedBy) typedSearchAttributes.push({ key: VideoAgentRequestedBy, value: parsed.requestedBy });
  if (parsed.tenant) typedSearchAttributes.push({ key: VideoAgentTenant, value: parsed.tenant });
  return client.workflow.start<VideoAgentSessionWorkflow>(SESSION_WORKFLOW_TYPE, {
    taskQueue: options.taskQueue,
    workflowId: options.workflowId ?? newSessionId(),
    args: [input],
    typedSearchAttributes,
    memo: { promptSummary: summary, ...(options.requestHash ? { requestHash: options.requestHash } : {}) },
    ...(options.rejectDuplicateId ? { workflowIdReusePolicy: 'REJECT_DUPLICATE' as const } : {}),
    staticSummary: `Video Agent: ${summary}`.slice(0, 200),
    staticDetails: [
      `**Prompt:** ${summary}`,
      parsed.requestedBy ? `**Requested by:** ${parsed.requestedBy}` : '',
      `**Review:** ${reviewPolicyText(parsed)}`,
    ]
      .filter(Boolean)
      .join('\n'),
  });
}
