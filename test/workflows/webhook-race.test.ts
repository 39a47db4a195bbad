/**
 * A HeyGen webhook that reaches a session together with the result of its follow activity (both in one
 * workflow task) must not be lost: the next follow reads HeyGen at once. Lost, it waited out its whole
 * schedule (with webhooks on, `pollWhileCalledBack`: 5 minutes by default) before noticing a finished
 * render. Here the HeyGen client itself sends the webhook's signal just as its read makes the follow
 * return, so the two often land in the same workflow task; each session checks every follow scheduled
 * after a webhook reads first.
 */
import type { Client } from '@temporalio/client';
import { HeyGenClient, type CallOptions } from '../../src/heygen/client';
import { DEFAULT_SIMULATOR_API_KEY } from '../../src/simulator/config';
import { heygenEventSignal } from '../../src/contract/session';
import { startSessionHarness, type SessionHarness } from '../harness/sessions';
import { uniqueId } from '../harness/temporal';

const SESSIONS = 12;
let h: SessionHarness;
const taskQueue = uniqueId('webhook-race');

/** Sends a session its webhook signal from the read that makes its follow return (thinking past 20). */
class WebhookWithTheReadClient extends HeyGenClient {
  readonly poked = new Set<string>();
  readonly signals: Promise<void>[] = [];
  constructor(private readonly client: () => Client) {
    super({ baseUrl: h.sim.url, apiKey: DEFAULT_SIMULATOR_API_KEY });
  }

  override async getSession(sessionId: string, options: CallOptions = {}) {
    const session = await super.getSession(sessionId, options);
    if (session.status === 'thinking' && (session.progress ?? 0) >= 20 && !this.poked.has(sessionId)) {
      // Sent just after this read returns (each session a little later than the one before, sweeping the
      // moments around the follow's completion), as a webhook racing the read would arrive.
      const delayMs = this.poked.size * 3;
      this.poked.add(sessionId);
      this.signals.push(
        (async () => {
          // HeyGen's read does not name our callback id; the simulator's record of the session does.
          const workflowId = (await h.sim.stats({ session_id: sessionId })).sessions[0]!.callback_id!;
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          await this.client().workflow.getHandle(workflowId).signal(heygenEventSignal, { eventType: 'video_agent.progress' });
        })(),
      );
    }
    return session;
  }
}

let heygen: WebhookWithTheReadClient;
beforeAll(async () => {
  h = await startSessionHarness({ worker: false });
  heygen = new WebhookWithTheReadClient(() => h.client);
  await h.startWorker({}, taskQueue, heygen);
});
afterAll(async () => {
  await h?.close();
});

interface FollowScheduled {
  readFirst: boolean;
  afterWebhook: boolean;
}

/** Each follow activity the session scheduled, and whether a webhook signal came in since the one before. */
async function followsOf(workflowId: string): Promise<FollowScheduled[]> {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  const follows: FollowScheduled[] = [];
  let webhookSinceLastFollow = false;
  for (const event of history.events ?? []) {
    if (event.workflowExecutionSignaledEventAttributes?.signalName === 'heygenEvent') webhookSinceLastFollow = true;
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'followHeyGenSession') {
      const input = JSON.parse(Buffer.from(scheduled.input!.payloads![0]!.data!).toString('utf8')) as { readFirst: boolean };
      follows.push({ readFirst: input.readFirst, afterWebhook: webhookSinceLastFollow });
      webhookSinceLastFollow = false;
    }
  }
  return follows;
}

test(`a webhook arriving with a follow's result is not lost: the next follow reads at once (${SESSIONS} sessions)`, async () => {
  const handles = await Promise.all(
    Array.from({ length: SESSIONS }, (_, i) => h.start({ prompt: `Webhook race ${i} [[sim think=1h]]` }, { taskQueue })),
  );
  await Promise.all(handles.map((handle) => h.waitForPhase(handle, 'reviewing', 60_000)));
  await Promise.all(heygen.signals);
  const follows = await Promise.all(handles.map((handle) => followsOf(handle.workflowId)));
  const afterWebhook = follows.flat().filter((follow) => follow.afterWebhook);
  console.log(`follows scheduled after a webhook: ${afterWebhook.length}; reading first: ${afterWebhook.filter((follow) => follow.readFirst).length}`);
  expect(heygen.poked.size).toBe(SESSIONS);
  expect(afterWebhook.length).toBeGreaterThanOrEqual(SESSIONS);
  expect(afterWebhook.map((follow) => follow.readFirst)).toEqual(afterWebhook.map(() => true));
});
