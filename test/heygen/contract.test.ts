/**
 * HeyGen's own JSON examples (copied into test/fixtures/heygen) are accepted by the shared schemas,
 * and parsing is tolerant of what the real API may add later.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseErrorBody } from '../../src/heygen/errors';
import {
  CreateSessionRequestSchema,
  CreateSessionResponseSchema,
  dataEnvelope,
  isKnownSessionStatus,
  ResourceSchema,
  SendMessageRequestSchema,
  SendMessageResponseSchema,
  SessionSchema,
  StopSessionResponseSchema,
  VideoSchema,
  WebhookEventSchema,
} from '../../src/contract/heygen';

const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'heygen', name), 'utf8'));

describe("HeyGen's documented examples parse", () => {
  test.each([
    ['create-session.request.json', CreateSessionRequestSchema],
    ['create-session.request.python.json', CreateSessionRequestSchema],
    ['send-message.request.changes.json', SendMessageRequestSchema],
    ['send-message.request.approve.json', SendMessageRequestSchema],
  ])('request %s', (name, schema) => {
    expect(schema.safeParse(fixture(name)).success).toBe(true);
  });

  test('create-session response', () => {
    const { data } = dataEnvelope(CreateSessionResponseSchema).parse(fixture('create-session.response.json'));
    expect(data).toEqual({ session_id: 'sess_abc123', status: 'thinking', video_id: null, created_at: 1711382400 });
  });

  test('get-session response: reviewing, messages newest-first with resource ids', () => {
    const { data } = dataEnvelope(SessionSchema).parse(fixture('get-session.response.json'));
    expect(data.status).toBe('reviewing');
    expect(data.progress).toBe(45);
    expect(data.messages.map((m) => m.role)).toEqual(['model', 'user']);
    expect(data.messages[0]!.resource_ids).toEqual(['res_storyboard_001']);
    expect(data.messages[1]!.resource_ids).toBeNull();
    expect(data.messages[0]!.created_at!).toBeGreaterThan(data.messages[1]!.created_at!);
  });

  test('send-message response', () => {
    const { data } = dataEnvelope(SendMessageResponseSchema).parse(fixture('send-message.response.json'));
    expect(data).toEqual({ session_id: 'sess_abc123', run_id: 'run_def456', title: 'Engineering Onboarding Video' });
  });

  test('get-resource response (preview_url absent in the example → null)', () => {
    const { data } = dataEnvelope(ResourceSchema).parse(fixture('get-resource.response.json'));
    expect(data).toMatchObject({ resource_id: 'res_storyboard_001', resource_type: 'image', preview_url: null, metadata: {} });
  });

  test('stop request and response', () => {
    expect(fixture('stop-session.request.json')).toEqual({});
    expect(dataEnvelope(StopSessionResponseSchema).parse(fixture('stop-session.response.json')).data).toEqual({ session_id: 'sess_abc123' });
  });

  test('a failed video carries its failure fields', () => {
    const { data } = dataEnvelope(VideoSchema).parse(fixture('get-video.failed.response.json'));
    expect(data).toMatchObject({ status: 'failed', failure_code: 'rendering_failed', failure_message: 'Avatar rendering timed out' });
  });

  test('the error envelope', () => {
    expect(parseErrorBody(402, JSON.stringify(fixture('error.insufficient-credit.json')))).toEqual({
      code: 'insufficient_credit',
      message: 'Your account has 5 credits but this video requires 10 credits.',
      param: undefined,
      docUrl: 'https://developers.heygen.com/docs/error-codes#insufficient-credit',
    });
  });
});

describe('tolerant parsing', () => {
  test('an unknown status and unknown fields are kept, not rejected', () => {
    const session = SessionSchema.parse({
      session_id: 's',
      status: 'queued_for_render',
      created_at: 1,
      brand_new_field: { nested: true },
      messages: [{ role: 'system', content: 'x', type: 'thought', extra: 1 }],
    });
    expect(session.status).toBe('queued_for_render');
    expect(isKnownSessionStatus(session.status)).toBe(false);
    expect((session as Record<string, unknown>).brand_new_field).toEqual({ nested: true });
    expect(session.messages[0]).toMatchObject({ role: 'system', type: 'thought', extra: 1, created_at: null, resource_ids: null });
    expect(session).toMatchObject({ progress: 0, title: null, video_id: null });
  });

  test('what the contract requires is still required', () => {
    expect(SessionSchema.safeParse({ status: 'thinking', created_at: 1 }).success).toBe(false);
    expect(VideoSchema.safeParse({ status: 'completed' }).success).toBe(false);
  });

  test('webhook bodies: documented keys read, anything else kept', () => {
    const event = WebhookEventSchema.parse({ event_type: 'video_agent.success', event_data: { session_id: 's', callback_id: 'wf-1', url: 'u' } });
    expect(event.event_data).toMatchObject({ session_id: 's', callback_id: 'wf-1', url: 'u' });
  });
});

describe('request validation (what the simulator enforces and the client checks before sending)', () => {
  const prompt = 'Make a video';
  test.each([
    ['empty prompt', { prompt: '' }],
    ['prompt over 10,000 characters', { prompt: 'x'.repeat(10_001) }],
    ['unknown mode', { prompt, mode: 'batch' }],
    ['unknown orientation', { prompt, orientation: 'square' }],
    ['21 files', { prompt, files: Array.from({ length: 21 }, () => ({ type: 'asset_id', asset_id: 'a' })) }],
    ['a file of unknown type', { prompt, files: [{ type: 'ftp', url: 'x' }] }],
    ['a url file without a URL', { prompt, files: [{ type: 'url', url: 'not a url' }] }],
    ['a base64 file without media_type', { prompt, files: [{ type: 'base64', data: 'AAAA' }] }],
  ])('create rejects %s', (_name, body) => {
    expect(CreateSessionRequestSchema.safeParse(body).success).toBe(false);
  });

  test('create accepts the boundaries and every file kind', () => {
    const files = [
      { type: 'asset_id', asset_id: 'asset_1' },
      { type: 'url', url: 'https://example.com/logo.png' },
      { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
    ];
    expect(CreateSessionRequestSchema.safeParse({ prompt: 'x'.repeat(10_000), files }).success).toBe(true);
    expect(CreateSessionRequestSchema.safeParse({ prompt: 'x', files: Array.from({ length: 20 }, () => files[0]) }).success).toBe(true);
  });

  test('message length limits', () => {
    expect(SendMessageRequestSchema.safeParse({ message: '' }).success).toBe(false);
    expect(SendMessageRequestSchema.safeParse({ message: 'x'.repeat(10_001) }).success).toBe(false);
    expect(SendMessageRequestSchema.safeParse({ message: 'x'.repeat(10_000), auto_proceed: true }).success).toBe(true);
  });
});
