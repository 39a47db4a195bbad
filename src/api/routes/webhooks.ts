/**
 * POST /v1/webhooks/heygen: HeyGen's callback. Authenticated by `Heygen-Signature` over the raw body
 * (the shared signing module), not by a bearer token. Stale timestamps are refused; event ids are
 * remembered so a redelivery is acknowledged without waking the session again. A valid event becomes a
 * `heygenEvent` signal to the session named by `callback_id`: a hint to read HeyGen's status now.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WebhookEventSchema } from '../../heygen/schemas';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhook } from '../../heygen/webhook-signature';
import { ApiError } from '../errors';
import { ErrorResponseSchema, WebhookAckSchema } from '../schemas';
import type { SessionsService } from '../sessions';

/** Event ids are kept this long (HeyGen retries for 24 hours) and at most this many. */
const SEEN_TTL_MS = 24 * 3600 * 1000;
const SEEN_MAX = 50_000;

class SeenEvents {
  private readonly seen = new Map<string, number>();

  /** True the first time an id is offered (within the TTL). */
  firstTime(id: string, now = Date.now()): boolean {
    const at = this.seen.get(id);
    if (at !== undefined && now - at < SEEN_TTL_MS) return false;
    this.seen.delete(id);
    this.seen.set(id, now);
    // Oldest first in insertion order: trim from the front.
    while (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.keys().next().value!);
    return true;
  }

  forget(id: string): void {
    this.seen.delete(id);
  }
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

export const webhookRoutes: FastifyPluginAsync<{ sessions: SessionsService; secret: string | undefined }> = async (app, { sessions, secret }) => {
  const seen = new SeenEvents();
  if (!secret) app.log.warn('HEYGEN_WEBHOOK_SECRET is not set: every HeyGen webhook will be refused');

  // This plugin's routes get the raw bytes: the signature covers them exactly as sent.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.options('/heygen', { schema: { hide: true } }, async (_request, reply) => reply.code(200).send());

  routes.post(
    '/heygen',
    {
      schema: {
        tags: ['webhooks'],
        summary: "HeyGen's webhook (signed with Heygen-Signature)",
        headers: z.looseObject({
          'heygen-signature': z.string().optional(),
          'heygen-timestamp': z.string().optional(),
          'heygen-event-id': z.string().optional(),
        }),
        response: { 200: WebhookAckSchema, 400: ErrorResponseSchema, 401: ErrorResponseSchema, 503: ErrorResponseSchema },
      },
    },
    async (request) => {
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const verification = secret
        ? verifyWebhook({
            rawBody,
            signature: header(request.headers[SIGNATURE_HEADER]),
            timestamp: header(request.headers[TIMESTAMP_HEADER]),
            eventId: header(request.headers[EVENT_ID_HEADER]),
            secret,
          })
        : ({ ok: false, reason: 'no_secret_configured' } as const);
      if (!verification.ok) throw new ApiError('unauthorized', `The webhook was refused (${verification.reason}).`);

      let event;
      try {
        event = WebhookEventSchema.parse(JSON.parse(rawBody.toString('utf8')));
      } catch {
        throw new ApiError('invalid_request', 'The webhook body is not a HeyGen event.');
      }
      const { eventId } = verification;
      if (!seen.firstTime(eventId)) {
        request.log.info({ eventId }, 'duplicate HeyGen webhook acknowledged');
        return { received: true, duplicate: true };
      }
      const workflowId = event.event_data.callback_id;
      if (!workflowId) {
        request.log.info({ eventId, type: event.event_type }, 'HeyGen webhook without callback_id acknowledged');
        return { received: true };
      }
      try {
        const delivered = await sessions.hint(workflowId, { eventType: event.event_type, eventId });
        request.log.info({ eventId, type: event.event_type, session: workflowId, delivered }, delivered ? 'HeyGen webhook passed on' : 'HeyGen webhook for an unknown session acknowledged');
      } catch (error) {
        // Temporal is down: let HeyGen redeliver later (it retries for 24 hours).
        seen.forget(eventId);
        throw error;
      }
      return { received: true };
    },
  );
};
