/**
 * POST /v1/webhooks/heygen: HeyGen's callback. Authenticated by `Heygen-Signature` over the raw body
 * (the shared signing module), not by a bearer token; stale timestamps are refused. A valid event becomes
 * a `heygenEvent` signal to the session named by `callback_id`: a hint to read HeyGen's status now.
 *
 * HeyGen signs the body only, so a captured delivery can be replayed with a fresh timestamp and any event
 * id. The signal's request id is therefore the body's digest, and Temporal keeps the request ids a
 * workflow has seen: the same body reaches a session once, whichever API instance receives it and
 * however often it restarts.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WebhookEventSchema } from '../../contract/heygen';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhook } from '../../contract/heygen-webhooks';
import { ApiError } from '../errors';
import { ErrorResponseSchema, SessionIdSchema, WebhookAckSchema } from '../../contract/api';
import type { SessionsService } from '../sessions';

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

export const webhookRoutes: FastifyPluginAsync<{ sessions: SessionsService; secret: string }> = async (app, { sessions, secret }) => {

  // This plugin's routes get the raw bytes: the signature covers them exactly as sent.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.options('/heygen', { schema: { hide: true } }, async (_request, reply) => reply.code(200).send());

  routes.post(
    '/heygen',
    {
      // Signed, not token-authenticated: exempt from the per-address limit, so that another client's
      // flood from the same proxy address never makes HeyGen's deliveries fail.
      config: { rateLimit: false },
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
      const verification = verifyWebhook({
        rawBody,
        signature: header(request.headers[SIGNATURE_HEADER]),
        timestamp: header(request.headers[TIMESTAMP_HEADER]),
        eventId: header(request.headers[EVENT_ID_HEADER]),
        secret,
      });
      if (!verification.ok) throw new ApiError('unauthorized', `The webhook was refused (${verification.reason}).`);

      let event;
      try {
        event = WebhookEventSchema.parse(JSON.parse(rawBody.toString('utf8')));
      } catch {
        throw new ApiError('invalid_request', 'The webhook body is not a HeyGen event.');
      }
      const { eventId } = verification;
      const workflowId = event.event_data.callback_id;
      // Ours are session ids; anything else (none, or text Temporal could not even take as an id) is
      // acknowledged so HeyGen stops redelivering it, and left alone.
      if (!workflowId || !SessionIdSchema.safeParse(workflowId).success) {
        request.log.info({ eventId, type: event.event_type.slice(0, 100) }, 'HeyGen webhook without one of our session ids acknowledged');
        return { received: true };
      }
      const requestId = `heygen-webhook-${createHash('sha256').update(rawBody).digest('hex')}`;
      // Temporal down: the error is a 503 and HeyGen redelivers (it retries for 24 hours).
      const delivered = await sessions.hint(workflowId, { eventType: event.event_type.slice(0, 100), eventId }, requestId);
      request.log.info({ eventId, type: event.event_type, session: workflowId, delivered }, delivered ? 'HeyGen webhook passed on' : 'HeyGen webhook for an unknown session acknowledged');
      return { received: true };
    },
  );
};
