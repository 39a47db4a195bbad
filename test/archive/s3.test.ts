/**
 * The S3 archive against a real S3-compatible server (moto's, from PyPI, installed by the project's
 * test harness), through the official AWS SDK: the store on its own (upload, find by checksum metadata,
 * ranged read, presigned link), then a whole session archived to the bucket and downloaded through the
 * API, which answers with a redirect to a short-lived presigned URL.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { S3ArchiveStore } from '../../src/archive';
import { ArchiveMismatch } from '../../src/archive/store';
import type { ArchiveState } from '../../src/contract/session';
import { startApiHarness, TOKENS, waitForApiPhase, type ApiHarness } from '../harness/api';
import { startMoto, type RunningMoto } from '../harness/moto';

let moto: RunningMoto;
let staging: string;
const BUCKET = 'vao-archive-test';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  // The SDK's default credential chain reads these; moto accepts any.
  process.env.AWS_ACCESS_KEY_ID = 'test-access-key';
  process.env.AWS_SECRET_ACCESS_KEY = 'test-secret-key';
  moto = await startMoto();
  const s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  staging = mkdtempSync(path.join(os.tmpdir(), 'vao-s3-staging-'));
}, 5 * 60_000);
afterAll(async () => {
  await moto?.close();
  rmSync(staging, { recursive: true, force: true });
});

test('the store: an upload visible only when complete, found again by its checksum, read by range, linked by a presigned URL', async () => {
  const store = new S3ArchiveStore({ bucket: BUCKET, prefix: 'videos/', region: 'us-east-1', endpoint: moto.endpoint, stagingDir: staging });
  const key = 'session-s3-unit/video.mp4';
  expect(await store.find(key)).toBeNull();
  // 6 MiB: a multipart upload (parts of 5 MiB).
  const bytes = Buffer.alloc(6 * 1024 * 1024, 7);
  bytes.write('the start', 0);
  const stagingPath = await store.stage(key, 1);
  writeFileSync(stagingPath, bytes);
  expect(await store.commit(key, stagingPath, { size: bytes.length, contentType: 'video/mp4' })).toEqual({ size: bytes.length, sha256: sha256(bytes) });

  expect(await store.find(key)).toEqual({ size: bytes.length, sha256: sha256(bytes) });
  const listed = await new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true }).send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'videos/' }));
  expect(listed.Contents?.map((object) => object.Key)).toEqual(['videos/session-s3-unit/video.mp4']);
  const part = await store.read(key, { start: 0, end: 8 });
  const chunks: Buffer[] = [];
  for await (const chunk of part!) chunks.push(chunk as Buffer);
  expect(Buffer.concat(chunks).toString()).toBe('the start');

  const link = await store.presignedUrl(key, 'my-video.mp4');
  expect(link).toContain('X-Amz-Signature=');
  // S3 names the download from this signed parameter (moto ignores it, so only the link is checked).
  expect(new URL(link).searchParams.get('response-content-disposition')).toBe('attachment; filename="my-video.mp4"');
  const downloaded = await fetch(link);
  expect(downloaded.status).toBe(200);
  expect(sha256(Buffer.from(await downloaded.arrayBuffer()))).toBe(sha256(bytes));
});

test('the store: a late attempt with other bytes replaces nothing (If-None-Match), is refused with ArchiveMismatch, and its staging is cleaned', async () => {
  const store = new S3ArchiveStore({ bucket: BUCKET, prefix: 'videos/', region: 'us-east-1', endpoint: moto.endpoint, stagingDir: staging });
  const key = 'session-s3-late/video.mp4';
  const fresh = Buffer.alloc(300 * 1024, 3);
  const newer = await store.stage(key, 2);
  writeFileSync(newer, fresh);
  expect(await store.commit(key, newer, { size: fresh.length, contentType: 'video/mp4' })).toEqual({ size: fresh.length, sha256: sha256(fresh) });

  // The stalled attempt's bytes: the file and 131,072 more.
  const late = Buffer.concat([fresh, Buffer.alloc(131_072, 9)]);
  const stale = await store.stage(key, 1);
  writeFileSync(stale, late);
  const refused = await store.commit(key, stale, { size: late.length, contentType: 'video/mp4' }).catch((error: unknown) => error);
  const stored = Buffer.concat(await (await store.read(key))!.toArray());
  console.log(`S3 late attempt: ${(refused as Error).name}; the object ${stored.length} bytes (the file ${fresh.length}); staging left ${readdirSync(staging).length}`);
  expect(refused).toBeInstanceOf(ArchiveMismatch);
  expect(sha256(stored)).toBe(sha256(fresh));
  expect(readdirSync(staging)).toEqual([]);
});

describe('a session archived to S3', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApiHarness({
      sessions: { env: { ARCHIVE: 's3', ARCHIVE_S3_BUCKET: BUCKET, ARCHIVE_S3_PREFIX: 'sessions/', ARCHIVE_S3_ENDPOINT: moto.endpoint, ARCHIVE_S3_REGION: 'us-east-1' } },
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  test('its files land in the bucket; the API redirects a download to a presigned URL that serves the same bytes', async () => {
    const created = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'To S3 [[sim think=1s generate=1s video_size=300kb]]', autoApprove: true } });
    await waitForApiPhase(api, created.body.id, 'completed');
    const { archive } = (await api.call<{ archive: ArchiveState }>('GET', `/v1/sessions/${created.body.id}/video`)).body;
    expect(archive.status).toBe('archived');
    const entry = archive.entries.find((e) => e.file === 'video')!;
    expect(entry).toMatchObject({ store: 's3', key: `${created.body.id}/video.mp4`, size: 300 * 1024 });

    const response = await fetch(`${api.url}/v1/sessions/${created.body.id}/video/content`, { headers: { authorization: `Bearer ${TOKENS.admin.token}` }, redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = response.headers.get('location')!;
    expect(location.startsWith(`${moto.endpoint}/${BUCKET}/sessions/${created.body.id}/video.mp4?`)).toBe(true);
    const bytes = Buffer.from(await (await fetch(location)).arrayBuffer());
    expect(bytes.length).toBe(300 * 1024);
    expect(sha256(bytes)).toBe(entry.sha256);
    console.log(`S3 archive: ${archive.entries.length} files in s3://${BUCKET}/sessions/${created.body.id}/; content answered ${response.status} to a presigned URL`);
  });
});
