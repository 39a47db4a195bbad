/**
 * Webhook deliveries, the way HeyGen makes them: a signed POST of `{event_type, event_data}` to the
 * session's `callback_url`, retried with exponential backoff (in simulated time) until a 2xx or 24 hours,
 * and, when the knobs say so, duplicated (same `Heygen-Event-Id`) or dropped.
 */
import { randomUUID } from 'node:crypto';
import { webhookHeaders } from '../contract/heygen-webhooks';
import type { Logger } from '../logging';
import type { SimulatorKnobs } from './config';

/** HeyGen gives up after 24 hours of retries. */
const RETRY_HORIZON_MS = 24 * 3600 * 1000;
const FIRST_RETRY_MS = 5_000;
/** HeyGen expects a 2xx within 10 seconds. */
const DELIVERY_TIMEOUT_MS = 10_000;

export interface WebhookStats {
  events: number;
  attempts: number;
  delivered: number;
  failed_attempts: number;
  dropped: number;
  duplicated: number;
  last_status: number | string | null;
}

export function emptyWebhookStats(): WebhookStats {
  return { events: 0, attempts: 0, delivered: 0, failed_attempts: 0, dropped: 0, duplicated: 0, last_status: null };
}

export interface WebhookEventBody {
  event_type: string;
  event_data: Record<string, unknown>;
}

export class WebhookDispatcher {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(
    private readonly secret: string,
    private readonly knobs: () => SimulatorKnobs,
    private readonly random: () => number,
    private readonly logger: Logger,
  ) {}

  emit(url: string, body: WebhookEventBody, stats: WebhookStats): void {
    if (this.closed) return;
    const eventId = `evt_${randomUUID().replace(/-/g, '')}`;
    const rawBody = JSON.stringify(body);
    stats.events++;
    const { dropRate, duplicateRate } = this.knobs().webhooks;
    if (dropRate > 0 && this.random() < dropRate) {
      stats.dropped++;
      this.logger.debug({ eventId, type: body.event_type }, 'webhook dropped (fault injection)');
      return;
    }
    this.attempt(url, rawBody, eventId, 1, 0, stats);
    if (duplicateRate > 0 && this.random() < duplicateRate) {
      stats.duplicated++;
      this.after(50, () => this.attempt(url, rawBody, eventId, 1, 0, stats));
    }
  }

  /** Cancels pending retries and aborts deliveries in flight; later events are sent again. */
  reset(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
  }

  /** Like reset, and sends nothing more. */
  close(): void {
    this.closed = true;
    this.reset();
  }

  private attempt(url: string, rawBody: string, eventId: string, attempt: number, elapsedSimMs: number, stats: WebhookStats): void {
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(), DELIVERY_TIMEOUT_MS);
    stats.attempts++;
    const headers = webhookHeaders(rawBody, this.secret, eventId, Math.floor(Date.now() / 1000));
    void fetch(url, { method: 'POST', headers, body: rawBody, signal: controller.signal })
      .then(async (response) => {
        await response.arrayBuffer().catch(() => undefined);
        return response.status;
      })
      .catch((error: unknown) => (error instanceof Error ? error.name : 'network_error'))
      .then((status) => {
        clearTimeout(timeout);
        this.inFlight.delete(controller);
        stats.last_status = status;
        if (typeof status === 'number' && status >= 200 && status < 300) {
          stats.delivered++;
          return;
        }
        stats.failed_attempts++;
        if (this.closed) return;
        const delaySimMs = FIRST_RETRY_MS * 2 ** (attempt - 1);
        if (elapsedSimMs + delaySimMs > RETRY_HORIZON_MS) {
          this.logger.warn({ eventId, attempt, url }, 'webhook delivery abandoned after 24 h of retries');
          return;
        }
        this.logger.debug({ eventId, attempt, status }, 'webhook delivery failed; retrying');
        this.after(delaySimMs / this.knobs().timeScale, () => this.attempt(url, rawBody, eventId, attempt + 1, elapsedSimMs + delaySimMs, stats));
      });
  }

  private after(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }
}
