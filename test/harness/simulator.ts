/**
 * A HeyGen simulator per test file, over real HTTP on a free port, with a client and admin helpers.
 */
import { HeyGenClient, type HeyGenClientOptions } from '../../src/heygen/client';
import { startSimulator, type RunningSimulator } from '../../src/simulator/app';
import { DEFAULT_SIMULATOR_API_KEY, loadSimulatorConfig, type SimulatorKnobs, type SimulatorKnobsPatch } from '../../src/simulator/config';
import type { ScriptedFault } from '../../src/simulator/faults';
import { testLogger } from './temporal';

export interface SimulatorStats {
  totals: Record<string, number>;
  responses: Record<string, number>;
  faults_injected: Record<string, number>;
  idempotent_replays: number;
  /** Media bytes sent per video file: `<video id>/video.mp4`, `.../captioned.mp4`, ... */
  media_bytes_served?: Record<string, number>;
  /** The highest `max_active_jobs` over all keys. */
  max_active_jobs: number;
  /** Per API key, by `apiKeyFingerprint` (configured keys always present): jobs the concurrency cap counts. */
  keys: Record<string, { active_jobs: number; max_active_jobs: number }>;
  sessions: {
    session_id: string;
    callback_id: string | null;
    idempotency_key: string | null;
    mode: string;
    status: string;
    halted: boolean;
    storyboards: number;
    video_ids: string[];
    created_at: string;
    calls: { get: number; message: number; stop: number; resource: number; videos: number; video: number };
    messages: { message: string; auto_proceed: boolean | null; at: string }[];
    webhooks: { events: number; attempts: number; delivered: number; failed_attempts: number; dropped: number; duplicated: number };
  }[];
}

export interface TestSimulator {
  url: string;
  running: RunningSimulator;
  client: (options?: Partial<HeyGenClientOptions>) => HeyGenClient;
  stats: (query?: { session_id?: string; callback_id?: string }) => Promise<SimulatorStats>;
  configure: (patch: SimulatorKnobsPatch) => Promise<SimulatorKnobs>;
  fault: (fault: Partial<ScriptedFault> & Pick<ScriptedFault, 'endpoint' | 'fault'>) => Promise<void>;
  /**
   * Ends a HeyGen session's thinking or rendering now: a test holds a phase with a long duration
   * (`think=1000h`) and ends it once what it waits for has happened, however long that took.
   */
  finishPhase: (sessionId: string) => Promise<void>;
  reset: () => Promise<void>;
  close: () => Promise<void>;
}

/** Starts a simulator; env overrides are SIMULATOR_* variables (time runs 1000x faster by default). */
export async function startTestSimulator(env: Record<string, string> = {}): Promise<TestSimulator> {
  const config = loadSimulatorConfig({ SIMULATOR_PORT: '0', SIMULATOR_TIME_SCALE: '1000', ...env });
  const running = await startSimulator(config, testLogger.child({ component: 'simulator' }));
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<unknown>;
  };
  return {
    url: running.url,
    running,
    client: (options = {}) => new HeyGenClient({ baseUrl: running.url, apiKey: DEFAULT_SIMULATOR_API_KEY, ...options }),
    stats: async (query = {}) => (await admin('GET', `/__sim/stats?${new URLSearchParams(query)}`)) as SimulatorStats,
    configure: async (patch) => (await admin('PATCH', '/__sim/config', patch)) as SimulatorKnobs,
    fault: async (fault) => {
      await admin('POST', '/__sim/faults', fault);
    },
    finishPhase: async (sessionId) => {
      await admin('POST', `/__sim/sessions/${encodeURIComponent(sessionId)}/finish-phase`);
    },
    reset: async () => {
      await admin('POST', '/__sim/reset');
    },
    close: () => running.close(),
  };
}
