/**
 * What the API does with Temporal: start sessions (idempotently), read their state within a bounded
 * time, list them from visibility, deliver decisions as signals and wait a bounded time for the outcome,
 * cancel them, and pass webhook hints on. Every call has a deadline, so a missing worker or server
 * becomes a clear 503 rather than a hanging request.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import { encodeToPayloads } from '@temporalio/common/lib/internal-non-workflow';
import type { ApiConfig } from './config';
import type { Logger } from '../logging';
import { startVideoAgentSession, newSessionId, type SessionHandle } from '../temporal/sessions';
import { HeyGenSessionId, VideoAgentRequestedBy, VideoAgentStatus, VideoAgentTenant } from '../contract/search-attributes';
import { GOVERNOR_WORKFLOW_TYPE, governorStateQuery, type GovernorState } from '../contract/governor';
import {
  approveSignal,
  CHECKPOINT_PHASES,
  decisionOutcomeUpdate,
  revokeReviewLinkUpdate,
  type DecisionOutcome,
  FINAL_PHASES,
  heygenEventSignal,
  sendMessageSignal,
  SESSION_WORKFLOW_TYPE,
  stateQuery,
  type Action,
  type ArchiveEntry,
  type ArchiveFile,
  type ArchiveState,
  type Phase,
  type SessionInput,
  type SessionState,
  type VideoAgentSessionWorkflow,
  type VideoInfo,
} from '../contract/session';
import { ApiError, notFound } from './errors';
import type { z } from 'zod';
import type { CapacityResponseSchema, CreateSessionBody, ListSessionsResponseSchema } from '../contract/api';
import { canSee, type Principal } from './tokens';
import { UNAUTHORIZED_HEADERS } from './auth';
import { canonicalJson } from '../canonical-json';
import { urlTargetProblem } from '../net-addresses';
import type { CursorCodec } from './cursor';
import { reviewLinkUrl, type ReviewLinkSigner } from '../review-links';
import { apiErrorFromTemporal, type AnsweredBy } from './temporal-errors';
import { StateCache } from './state-cache';

/** Phases in which a session's video is known: read, being archived, archived or not. */
const VIDEO_PHASES: readonly Phase[] = ['archiving', 'completed', 'archive_failed'];

/** Sessions whose tenant the API remembers (it never changes), so decisions skip a describe. */
const TENANT_CACHE_SIZE = 10_000;
/** Session states the API keeps to answer reads of unchanged sessions without a worker (a few KB each). */
const STATE_CACHE_SIZE = 2_000;
const DEFAULT_REVIEW_LINK_MS = 7 * 24 * 3_600_000;

type Closed = 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT' | 'CONTINUED_AS_NEW';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}


export type DecisionResult = { outcome: 'applied'; state: SessionState } | { outcome: 'accepted'; requestId: string };

export interface DecisionInput {
  kind: 'approve' | 'message';
  requestId: string;
  message?: string;
  avatarId?: string;
  voiceId?: string;
  files?: SessionInput['files'];
}

export class SessionsService {
  constructor(
    private readonly client: Client,
    private readonly config: ApiConfig,
    private readonly logger: Logger,
    private readonly cursors: CursorCodec,
    private readonly links: ReviewLinkSigner,
  ) {}

  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly tenants = new Map<string, string | null>();
  private readonly states = new StateCache(STATE_CACHE_SIZE);

  // -------------------------------------------------------------------------------------------------

  async create(principal: Principal, body: CreateSessionBody, idempotencyKey?: string): Promise<{ id: string; status: Phase; created: boolean }> {
    const notify = body.notify ?? (principal.notifyUrl ? { url: principal.notifyUrl } : undefined);
    if (notify) this.checkNotify(principal, notify.url);
    const input: SessionInput = {
      ...body,
      ...(notify ? { notify } : {}),
      requestedBy: principal.name,
      ...(principal.tenant ? { tenant: principal.tenant } : {}),
      ...(this.config.api.sessionTiming ? { timing: this.config.api.sessionTiming } : {}),
    };
    const requestHash = sha256(canonicalJson(body));
    // A key names one session per client: the same key from another token is another request.
    const id = idempotencyKey ? `session-${sha256(`${principal.name}\n${idempotencyKey}`).slice(0, 40)}` : newSessionId();
    try {
      await this.call(() =>
        startVideoAgentSession(this.client, input, {
          taskQueue: this.config.temporal.taskQueue,
          workflowId: id,
          requestHash,
          rejectDuplicateId: idempotencyKey !== undefined,
        }),
      );
      this.logger.info({ id, requestedBy: principal.name, idempotent: idempotencyKey !== undefined }, 'session started');
      this.rememberTenant(id, principal.tenant ?? null);
      return { id, status: 'creating', created: true };
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError) || !idempotencyKey) throw error;
      const description = await this.call(() => this.client.workflow.getHandle(id).describe());
      if (description.memo?.requestHash !== requestHash) {
        throw new ApiError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body.');
      }
      return { id, status: (description.typedSearchAttributes.get(VideoAgentStatus) ?? 'creating') as Phase, created: false };
    }
  }

  async state(principal: Principal, id: string): Promise<SessionState> {
    const { handle, description } = await this.owned(principal, id);
    return this.readState(handle, description);
  }

  /**
   * A session's state for a live stream: the first read checks the caller may see it (404 otherwise),
   * then `next` reads again each time (undefined while no worker answers).
   */
  async follow(
    principal: Principal,
    id: string,
  ): Promise<{ first: SessionState; next: () => Promise<SessionState | undefined>; opensFor: (principal: Principal) => boolean }> {
    const { handle, description } = await this.owned(principal, id);
    const first = await this.readState(handle, description);
    const tenant = tenantOf(description);
    // The reader may serve every stream of this session (SessionFeeds): each stream checks its own
    // credential against each state, revocation included, in its reauthorise.
    return { first, next: () => this.tryReadState(handle), opensFor: (later) => opens(later, id, tenant) };
  }

  /**
   * A signed, expiring link to the review page of one session, for someone without a token. What is sent
   * with it is recorded as `link:<name>`; it stops working when it expires, when it is revoked, when the
   * token that minted it changes (its value, tenant or scopes) or is removed, or when REVIEW_LINK_SECRET
   * changes.
   */
  async reviewLink(
    principal: Principal,
    id: string,
    options: { name?: string; expiresIn?: number },
    publicUrl: string,
  ): Promise<{ id: string; url: string; name: string; expiresAt: string }> {
    if (!principal.minter) throw new ApiError('forbidden', 'Only an API token makes review links.');
    await this.owned(principal, id);
    const name = options.name ?? principal.name;
    const expiresAt = new Date(Date.now() + (options.expiresIn ?? DEFAULT_REVIEW_LINK_MS));
    const link = this.links.mint({ sessionId: id, name, expiresAt }, principal.minter);
    this.logger.info({ id, by: principal.name, reviewer: name, link: link.id, expiresAt }, 'review link made');
    return { id: link.id, url: reviewLinkUrl(publicUrl, id, link.credential), name: `link:${name}`, expiresAt: expiresAt.toISOString() };
  }

  /**
   * Revokes one review link of a session: the session keeps its id, and every API instance refuses the
   * link from its next use (the state they read for it says so). A finished session takes no more
   * revocations: rotating the minting token (or REVIEW_LINK_SECRET) revokes its links.
   */
  async revokeReviewLink(principal: Principal, id: string, linkId: string): Promise<{ sessionId: string; linkId: string; status: 'revoked' }> {
    const { handle, description } = await this.owned(principal, id);
    if (description.status.name !== 'RUNNING') {
      throw new ApiError('session_finished', 'The session has finished, so it takes no more revocations: rotate the token that minted the link to revoke it.', {
        status: description.typedSearchAttributes.get(VideoAgentStatus) ?? null,
      });
    }
    try {
      await this.call(() => handle.executeUpdate(revokeReviewLinkUpdate, { args: [{ linkId, by: principal.name }] }), 'worker', this.config.api.decisionWaitMs);
    } catch (error) {
      // Refused by the session: its list is full, or it runs a build from before revocation.
      if (error instanceof WorkflowUpdateFailedError) throw new ApiError('conflict', `The session cannot revoke the link: ${error.cause?.message ?? error.message}`);
      throw error;
    }
    this.logger.info({ id, by: principal.name, link: linkId }, 'review link revoked');
    return { sessionId: id, linkId, status: 'revoked' };
  }

  async list(
    principal: Principal,
    query: { status?: Phase; limit: number; cursor?: string },
  ): Promise<z.infer<typeof ListSessionsResponseSchema>> {
    const clauses = [`WorkflowType="${SESSION_WORKFLOW_TYPE}"`];
    if (!principal.admin) clauses.push(principal.tenant ? `VideoAgentTenant="${principal.tenant}"` : 'VideoAgentTenant IS NULL');
    if (query.status) clauses.push(`VideoAgentStatus="${query.status}"`);
    const visibilityQuery = clauses.join(' AND ');
    const response = await this.call(() =>
      this.client.workflowService.listWorkflowExecutions({
        namespace: this.config.temporal.namespace,
        query: visibilityQuery,
        pageSize: query.limit,
        nextPageToken: query.cursor ? this.pageToken(query.cursor, visibilityQuery) : undefined,
      }),
    );
    const dataConverter = this.client.options.loadedDataConverter;
    const sessions = await Promise.all(
      (response.executions ?? []).map(async (raw) => {
        const info = await executionInfoFromRaw(raw, dataConverter, raw, this.config.temporal.namespace);
        const attributes = info.typedSearchAttributes;
        return {
          id: info.workflowId,
          status: attributes.get(VideoAgentStatus) ?? null,
          heygenSessionId: attributes.get(HeyGenSessionId) ?? null,
          promptSummary: typeof info.memo?.promptSummary === 'string' ? info.memo.promptSummary : null,
          requestedBy: attributes.get(VideoAgentRequestedBy) ?? null,
          workflowStatus: info.status.name,
          createdAt: info.startTime.toISOString(),
          closedAt: info.closeTime?.toISOString() ?? null,
        };
      }),
    );
    const token = response.nextPageToken;
    return { sessions, nextCursor: token && token.length > 0 ? this.cursors.encode(token, visibilityQuery) : null };
  }

  /**
   * Delivers an approval or a message: the signal, then the `decisionOutcome` update, which answers once
   * the workflow has settled the decision (applied, refused because the session is not at a checkpoint,
   * or refused by HeyGen). With no answer within API_DECISION_WAIT (no worker, HeyGen slow), accepted:
   * the signal is stored and acted on when a worker runs. A repeated request id gets its first outcome.
   */
  async decide(principal: Principal, id: string, decision: DecisionInput): Promise<DecisionResult> {
    const handle = await this.decidable(principal, id);
    const payload = { requestId: decision.requestId, by: principal.name };
    try {
      if (decision.kind === 'approve') {
        await this.call(() => handle.signal(approveSignal, { ...payload, ...(decision.message ? { message: decision.message } : {}) }));
      } else {
        const { message, avatarId, voiceId, files } = decision;
        await this.call(() => handle.signal(sendMessageSignal, { ...payload, message: message!, avatarId, voiceId, files }));
      }
    } catch (error) {
      throw error instanceof ApiError && error.code === 'not_found' ? await this.whyNotRunning(principal, id) : error;
    }

    let answer: DecisionOutcome;
    try {
      answer = await this.call(() => handle.executeUpdate(decisionOutcomeUpdate, { args: [{ requestId: decision.requestId }] }), 'worker', this.config.api.decisionWaitMs);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'worker_unavailable') return { outcome: 'accepted', requestId: decision.requestId };
      throw error instanceof ApiError && error.code === 'not_found' ? await this.whyNotRunning(principal, id) : error;
    }
    const { action, state } = answer;
    // Seen so long ago that it has left the action log: it was answered then.
    if (!action) return { outcome: 'accepted', requestId: decision.requestId };
    // The session has ended (its workflow may still be telling HeyGen to stop, or giving back its slot).
    if (action.outcome === 'ignored' && FINAL_PHASES.includes(state.phase)) {
      throw new ApiError('session_finished', `The session has finished (${state.phase}).`, { status: state.phase });
    }
    return this.outcomeOf(action, state);
  }

  /**
   * The session to decide on, checked to be the caller's. Its tenant never changes, so once this instance
   * has started the session or decided on it, it is known without asking Temporal: a decision then costs
   * the signal and the update only.
   */
  private async decidable(principal: Principal, id: string): Promise<SessionHandle> {
    refuseOtherSessionsLink(principal, id);
    const known = this.tenants.get(id);
    // A link is checked against the session's revocations each time: it goes through owned().
    if (known !== undefined && principal.linkId === null) {
      if (principal.session === null && !canSee(principal, known)) throw notFound();
      return this.client.workflow.getHandle<VideoAgentSessionWorkflow>(id);
    }
    const { handle, description } = await this.owned(principal, id);
    this.rememberTenant(id, description.typedSearchAttributes.get(VideoAgentTenant) ?? null);
    if (description.status.name !== 'RUNNING') throw this.finished(description);
    return handle;
  }

  /** A session's tenant, as this instance started it or first read it: it never changes. */
  private rememberTenant(id: string, tenant: string | null): void {
    this.tenants.set(id, tenant);
    if (this.tenants.size > TENANT_CACHE_SIZE) this.tenants.delete(this.tenants.keys().next().value!);
  }

  /** A signal or update found no running session: it finished (409), or it is not there for the caller (404). */
  private async whyNotRunning(principal: Principal, id: string): Promise<ApiError> {
    const { description } = await this.owned(principal, id);
    return this.finished(description);
  }

  private finished(description: WorkflowExecutionDescription): ApiError {
    return new ApiError('session_finished', `The session has finished (${description.status.name.toLowerCase()}).`, {
      status: description.typedSearchAttributes.get(VideoAgentStatus) ?? null,
    });
  }

  async stop(principal: Principal, id: string): Promise<'stopping' | 'finished'> {
    const { handle, description } = await this.owned(principal, id);
    if (description.status.name !== 'RUNNING') return 'finished';
    // Ended, and still telling HeyGen to stop or giving back its slot: nothing more to stop.
    if (FINAL_PHASES.includes(description.typedSearchAttributes.get(VideoAgentStatus) as Phase)) return 'finished';
    await this.call(() => handle.cancel());
    this.logger.info({ id, by: principal.name }, 'session stop requested');
    return 'stopping';
  }

  /** The finished video (HeyGen's info) and our archive of it; 409 video_not_ready before HeyGen finished it. */
  async video(principal: Principal, id: string): Promise<VideoInfo & { archive: ArchiveState | null }> {
    const { handle, description } = await this.owned(principal, id);
    const status = description.typedSearchAttributes.get(VideoAgentStatus) ?? null;
    // Known once the session reads it (`finalizing`), kept while it is archived and if archival fails.
    if (description.status.name === 'COMPLETED' || (status !== null && VIDEO_PHASES.includes(status as Phase))) {
      const state = await this.readState(handle, description);
      if (state.video) return { ...state.video, archive: state.archive ?? null };
    }
    throw new ApiError('video_not_ready', `The session has no video${status ? ` (it is ${status})` : ''}.`, { status });
  }

  /** The archive entry of one of the video's files, to serve; 409 video_not_archived when there is none. */
  async archivedFile(principal: Principal, id: string, file: ArchiveFile): Promise<ArchiveEntry> {
    const { archive } = await this.video(principal, id);
    const entry = archive?.entries.find((e) => e.file === file);
    if (entry) return entry;
    const why = !archive
      ? 'the session has no archive (archival was not part of it)'
      : archive.notOffered.includes(file)
        ? `HeyGen has no ${file} file for this video`
        : archive.status === 'off'
          ? 'archival is turned off'
          : archive.status === 'failed'
            ? `archiving it failed: ${archive.error ?? 'unknown reason'}`
            : 'it is being archived';
    throw new ApiError('video_not_archived', `The ${file} file is not archived: ${why}.`, { file, archive: archive?.status ?? null });
  }

  /**
   * The job slots of every HeyGen account the workers use (one governor workflow each): who holds them,
   * which holders are parked waiting for a person, who waits. Sessions of other tenants are counted only.
   */
  async capacity(principal: Principal): Promise<z.infer<typeof CapacityResponseSchema>> {
    const governors = await this.call(() =>
      this.client.workflowService.listWorkflowExecutions({
        namespace: this.config.temporal.namespace,
        // The governors our workers run (one per HeyGen account they use), not those of other deployments.
        query: `WorkflowType="${GOVERNOR_WORKFLOW_TYPE}" AND ExecutionStatus="Running" AND TaskQueue="${this.config.temporal.taskQueue}"`,
        pageSize: 100,
      }),
    );
    const states = await Promise.all(
      (governors.executions ?? []).map((execution) =>
        this.call(() => this.client.workflow.getHandle(execution.execution!.workflowId!).query(governorStateQuery), 'worker', this.config.api.queryTimeoutMs),
      ),
    );
    const phases = await this.phasesOf(states.flatMap((state) => state.holders.map((holder) => holder.sessionId)));
    const visible = (tenant: string | null) => canSee(principal, tenant);
    return {
      accounts: states.map((state: GovernorState) => {
        const holders = state.holders.map((h) => ({ id: h.sessionId, tenant: h.tenant, since: h.grantedAt, phase: phases.get(h.sessionId) ?? null, position: null }));
        const waiting = state.waiting.map((w) => ({ id: w.sessionId, tenant: w.tenant, since: w.requestedAt, phase: 'queued', position: w.position }));
        return {
          account: state.account,
          limit: state.limit,
          inUse: holders.length,
          queued: waiting.length,
          parkedHolders: holders.filter((h) => h.phase !== null && (CHECKPOINT_PHASES as readonly string[]).includes(h.phase)).length,
          holders: holders.filter((h) => visible(h.tenant)),
          waiting: waiting.filter((w) => visible(w.tenant)),
          otherTenants: { holders: holders.filter((h) => !visible(h.tenant)).length, waiting: waiting.filter((w) => !visible(w.tenant)).length },
        };
      }),
    };
  }

  /** The phases (VideoAgentStatus) of running sessions, from visibility: one listing, not a query each. */
  private async phasesOf(ids: string[]): Promise<Map<string, string>> {
    const phases = new Map<string, string>();
    if (ids.length === 0) return phases;
    const dataConverter = this.client.options.loadedDataConverter;
    const quoted = ids.map((id) => `"${id.replace(/["\\]/g, '')}"`).join(', ');
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await this.call(() =>
        this.client.workflowService.listWorkflowExecutions({
          namespace: this.config.temporal.namespace,
          query: `WorkflowType="${SESSION_WORKFLOW_TYPE}" AND ExecutionStatus="Running" AND WorkflowId IN (${quoted})`,
          pageSize: 1000,
          nextPageToken,
        }),
      );
      for (const raw of page.executions ?? []) {
        const info = await executionInfoFromRaw(raw, dataConverter, raw, this.config.temporal.namespace);
        const phase = info.typedSearchAttributes.get(VideoAgentStatus);
        if (phase) phases.set(info.workflowId, phase);
      }
      nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return phases;
  }

  /**
   * Wakes a session because HeyGen sent news. `requestId` makes the signal idempotent: Temporal records
   * the request ids a workflow was signalled with and drops a repeat. `false` when no such session runs.
   */
  async hint(workflowId: string, event: { eventType?: string; eventId?: string }, requestId: string): Promise<boolean> {
    const { loadedDataConverter, identity } = this.client.options;
    try {
      await this.call(async () =>
        this.client.workflowService.signalWorkflowExecution({
          namespace: this.config.temporal.namespace,
          workflowExecution: { workflowId },
          signalName: heygenEventSignal.name,
          input: { payloads: await encodeToPayloads(loadedDataConverter, event) },
          identity,
          requestId,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'not_found') return false;
      throw error;
    }
  }

  /** Whether the Temporal server answers. */
  async ready(): Promise<boolean> {
    try {
      await this.call(() => this.client.workflowService.getSystemInfo({}), 'server', Math.min(2_000, this.config.api.temporalTimeoutMs));
      return true;
    } catch {
      return false;
    }
  }

  // -------------------------------------------------------------------------------------------------

  /** A session may notify only where we may send, signed with a secret the token has. */
  private checkNotify(principal: Principal, url: string): void {
    const invalid = (message: string) => new ApiError('invalid_request', `notify.url: ${message}`, [{ in: 'body', path: 'notify.url', message }]);
    if (!principal.signsNotifications) throw invalid(`the token ${principal.name} has no notifySecret to sign notifications with (set one in API_TOKENS)`);
    const problem = urlTargetProblem(url, { allowPrivate: this.config.api.notifyAllowPrivate, deniedPorts: this.config.api.notifyDeniedPorts });
    if (problem) throw invalid(`refused: ${problem}`);
  }

  private pageToken(cursor: string, visibilityQuery: string): Buffer {
    const token = this.cursors.decode(cursor, visibilityQuery);
    if (token) return token;
    throw new ApiError('invalid_request', 'The cursor is not valid for this listing; start again without one.', [
      { in: 'querystring', path: 'cursor', message: 'invalid cursor' },
    ]);
  }

  private outcomeOf(action: Action, state: SessionState): DecisionResult {
    if (action.outcome === 'applied') return { outcome: 'applied', state };
    if (action.outcome === 'ignored') {
      const message =
        action.phase === state.phase ? `The session is not waiting for a decision (it is ${state.phase}).` : `The session was not waiting for a decision (it was ${action.phase}).`;
      throw new ApiError('not_awaiting_input', message, {
        status: state.phase,
        reason: action.reason,
      });
    }
    throw new ApiError('heygen_rejected', 'HeyGen refused the message.', { status: state.phase, reason: action.reason });
  }

  /** The session, if it exists, is a video agent session and belongs to the caller's tenant. */
  private async owned(principal: Principal, id: string): Promise<{ handle: SessionHandle; description: WorkflowExecutionDescription }> {
    refuseOtherSessionsLink(principal, id);
    const handle = this.client.workflow.getHandle<VideoAgentSessionWorkflow>(id);
    const description = await this.call(() => handle.describe());
    if (description.type !== SESSION_WORKFLOW_TYPE || !opens(principal, id, tenantOf(description))) throw notFound();
    if (principal.linkId !== null) refuseRevokedLink(principal, await this.readState(handle, description));
    return { handle, description };
  }

  /**
   * A session's state: as last read when its history has not grown since (see state-cache.ts), else its
   * result when it has completed (no worker needed), else queried, within bounds.
   */
  private async readState(handle: SessionHandle, description: WorkflowExecutionDescription): Promise<SessionState> {
    const version = StateCache.version(description);
    const known = this.states.get(handle.workflowId, version);
    if (known) return known;
    const state =
      (description.status.name as Closed) === 'COMPLETED'
        ? await this.call(() => handle.result())
        : await this.call(() => handle.query(stateQuery), 'worker', this.config.api.queryTimeoutMs);
    this.states.set(handle.workflowId, version, state);
    return state;
  }

  /** The state for a live stream's next read: undefined while no worker answers. */
  private async tryReadState(handle: SessionHandle): Promise<SessionState | undefined> {
    try {
      return await this.readState(handle, await this.call(() => handle.describe()));
    } catch (error) {
      if (error instanceof ApiError && error.code === 'worker_unavailable') return undefined;
      throw error;
    }
  }

  /**
   * Runs a Temporal call with a deadline and turns its failures into documented API errors (see
   * temporal-errors.ts): not found → 404, no answer in time → 503 (`worker_unavailable` when only a worker
   * could have answered), server unreachable → 503 `temporal_unavailable`, and so on for every code.
   */
  private async call<T>(fn: () => Promise<T>, answeredBy: AnsweredBy = 'server', deadlineMs = this.config.api.temporalTimeoutMs): Promise<T> {
    const pending = this.client.withDeadline(Date.now() + deadlineMs, fn);
    this.inFlight.add(pending);
    try {
      return await pending;
    } catch (error) {
      const mapped = apiErrorFromTemporal(error, answeredBy);
      if (!mapped) throw error;
      if (mapped.code === 'temporal_error') this.logger.error({ err: error, code: mapped.code }, 'Temporal call failed');
      throw mapped;
    } finally {
      this.inFlight.delete(pending);
    }
  }

  /**
   * Waits for the Temporal calls still under way (each has a deadline). A call the gRPC client is
   * retrying holds a timer that would throw once the connection is closed, so the API settles them first.
   */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}

const tenantOf = (description: WorkflowExecutionDescription) => description.typedSearchAttributes.get(VideoAgentTenant) ?? null;

/** Whether the principal may open session `id` of `tenant`: a link its own session, a token its tenant's. */
function opens(principal: Principal, id: string, tenant: string | null): boolean {
  return principal.session === null ? canSee(principal, tenant) : principal.session === id;
}

/**
 * A link revoked by id no longer opens its session (the session keeps the ids: its state is the one place
 * every API instance reads). Called with each state a link's request or stream reads.
 */
export function refuseRevokedLink(principal: Principal, state: SessionState): void {
  if (principal.linkId !== null && (state.revokedLinks ?? []).includes(principal.linkId)) {
    throw new ApiError('unauthorized', REVOKED_LINK_MESSAGE, undefined, UNAUTHORIZED_HEADERS);
  }
}

export const REVOKED_LINK_MESSAGE = 'This review link was revoked; ask for a new one.';

/** A review link opens the one session it was minted for (by someone who could see it), no other. */
function refuseOtherSessionsLink(principal: Principal, id: string): void {
  if (principal.session !== null && principal.session !== id) throw new ApiError('forbidden', 'This review link is for another session.');
}

export const newRequestId = () => `req-${randomUUID()}`;
