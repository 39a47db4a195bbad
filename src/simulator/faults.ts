/**
 * Fault injection for the simulator's /v3 endpoints: random faults at the configured rates (seeded, so a
 * run is reproducible) and one-shot faults scripted through `POST /__sim/faults` for precise tests.
 *
 * A fault can strike `before` the request is processed (nothing happened at "HeyGen") or `after` it
 * (the session was created or the message recorded, but the caller never hears so): the case that makes
 * a create or message ambiguous and idempotency keys necessary.
 */
import { z } from 'zod';
import type { SimulatorKnobs } from './config';

export const ENDPOINTS = [
  'create_session',
  'get_session',
  'send_message',
  'get_resource',
  'list_session_videos',
  'stop_session',
  'get_video',
  'list_sessions',
  'list_videos',
  'delete_video',
  'get_video_statuses',
  'list_styles',
] as const;
export type EndpointName = (typeof ENDPOINTS)[number];

/** Endpoints whose repetition could duplicate an effect; only these see faults `after` processing. */
export const WRITE_ENDPOINTS: readonly EndpointName[] = ['create_session', 'send_message'];

export const FAULT_KINDS = ['429', '500', '502', '503', 'reset', 'malformed', 'slow'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * Faults of the media behind the presigned URLs (scripted only): `expired` answers as a URL past its
 * time does (403), `missing` as a file that is gone (404), `cut` drops the connection halfway through the
 * body, `503` is a storage hiccup.
 */
export const MEDIA_FAULT_KINDS = ['expired', 'missing', 'cut', '503'] as const;
export type MediaFaultKind = (typeof MEDIA_FAULT_KINDS)[number];

export const ScriptedFaultSchema = z
  .object({
    /** `media`: a download from /media (its faults are MEDIA_FAULT_KINDS). */
    endpoint: z.enum([...ENDPOINTS, '*', 'media']),
    fault: z.enum([...FAULT_KINDS, 'expired', 'missing', 'cut']),
    when: z.enum(['before', 'after']).default('before'),
    count: z.int().min(1).max(10_000).default(1),
    /** Only requests about this session (its id in the path). */
    session_id: z.string().min(1).optional(),
    /** Only downloads of this video's files (`media` faults). */
    video_id: z.string().min(1).optional(),
  })
  .strict()
  .refine(
    (fault) =>
      fault.endpoint === 'media' ? (MEDIA_FAULT_KINDS as readonly string[]).includes(fault.fault) : (FAULT_KINDS as readonly string[]).includes(fault.fault),
    { error: `faults of endpoint "media" are ${MEDIA_FAULT_KINDS.join(', ')}; other endpoints' are ${FAULT_KINDS.join(', ')}` },
  );
export type ScriptedFault = z.infer<typeof ScriptedFaultSchema>;

export interface Fault {
  kind: FaultKind;
  when: 'before' | 'after';
}

/** mulberry32: a small, fast, seedable PRNG (Math.random cannot be seeded). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private scripted: ScriptedFault[] = [];

  constructor(
    private readonly knobs: () => SimulatorKnobs,
    private readonly random: () => number,
  ) {}

  script(fault: ScriptedFault): void {
    this.scripted.push({ ...fault });
  }

  pending(): ScriptedFault[] {
    return this.scripted.map((fault) => ({ ...fault }));
  }

  clear(): void {
    this.scripted = [];
  }

  /** The scripted fault for a download of this video's file, if any. */
  pickMedia(videoId: string | undefined): MediaFaultKind | undefined {
    const index = this.scripted.findIndex((fault) => fault.endpoint === 'media' && (!fault.video_id || fault.video_id === videoId));
    if (index < 0) return undefined;
    const fault = this.scripted[index]!;
    if (--fault.count === 0) this.scripted.splice(index, 1);
    return fault.fault as MediaFaultKind;
  }

  /** The fault for this request, if any: a scripted one first, else a roll of the dice. */
  pick(endpoint: EndpointName, sessionId: string | undefined): Fault | undefined {
    const index = this.scripted.findIndex(
      (fault) => (fault.endpoint === '*' || fault.endpoint === endpoint) && (!fault.session_id || fault.session_id === sessionId),
    );
    if (index >= 0) {
      const fault = this.scripted[index]!;
      if (--fault.count === 0) this.scripted.splice(index, 1);
      return { kind: fault.fault as FaultKind, when: WRITE_ENDPOINTS.includes(endpoint) ? fault.when : 'before' };
    }
    const rates = this.knobs().faultRates;
    const roll = (probability: number) => probability > 0 && this.random() < probability;
    let kind: FaultKind | undefined;
    if (roll(rates.connectionReset)) kind = 'reset';
    else if (roll(rates.rateLimited)) kind = '429';
    else if (roll(rates.serverError)) kind = (['500', '502', '503'] as const)[Math.floor(this.random() * 3)];
    else if (roll(rates.malformedBody)) kind = 'malformed';
    else if (roll(rates.slowResponse)) kind = 'slow';
    if (!kind) return undefined;
    // 429 is by definition a refusal before any work; the others may hit a write after it took effect.
    const after = kind !== '429' && WRITE_ENDPOINTS.includes(endpoint) && this.random() < 0.5;
    return { kind, when: after ? 'after' : 'before' };
  }
}
