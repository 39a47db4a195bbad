/**
 * The local archive store's per-attempt staging and its checked publish, on a real folder (issue #22,
 * defect 13): a stalled attempt that wakes and writes on must change neither a newer attempt's staging
 * file nor the published file; a late attempt with other bytes is refused without replacing what is
 * published; every staging file of a key is gone once it is published.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { appendFile, mkdir, open, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StaleAttempt } from '../../src/archive/staging';
import { ArchiveMismatch, LocalArchiveStore } from '../../src/archive/store';

let root: string;
let store: LocalArchiveStore;
const KEY = 'session-store/video.mp4';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** HeyGen's file: 1 MiB of a pattern, so any shifted or extra byte shows. */
const FILE = Buffer.from(Array.from({ length: 1024 * 1024 }, (_, i) => (i * 7 + (i >> 10)) % 251));
const staged = () => readdirSync(path.join(root, '.staging'));

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'vao-store-'));
  store = new LocalArchiveStore(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test('a stalled attempt that wakes and appends: the retry resumed from a copy, so neither its file nor the published one changes', async () => {
  const first = await store.stage(KEY, 1);
  // The first attempt writes a quarter, then stalls with its file open for appending (as a download does).
  const stalled = await open(first, 'a');
  await stalled.write(FILE.subarray(0, FILE.length / 4));

  const second = await store.stage(KEY, 2);
  expect(second).not.toBe(first);
  expect(staged()).toEqual([path.basename(second)]); // the earlier attempt's file is no longer anyone's to publish
  expect(readFileSync(second).equals(FILE.subarray(0, FILE.length / 4))).toBe(true); // resumed from its bytes

  // The stalled attempt wakes mid-way through the retry and writes what it still held.
  await appendFile(second, FILE.subarray(FILE.length / 4, FILE.length / 2));
  await stalled.write(FILE.subarray(FILE.length / 4, FILE.length / 4 + 131_072));
  await appendFile(second, FILE.subarray(FILE.length / 2));
  const published = await store.commit(KEY, second, { size: FILE.length, contentType: 'video/mp4' });
  await stalled.write(FILE.subarray(0, 65_536)); // and after the publish
  await stalled.close();

  const onDisk = readFileSync(store.pathOf(KEY));
  console.log(`stalled writer: published ${onDisk.length} bytes (file ${FILE.length}), entry ${published.size}; staging left ${staged().length}`);
  expect(published).toEqual({ size: FILE.length, sha256: sha256(FILE) });
  expect(onDisk.equals(FILE)).toBe(true);
  expect(staged()).toEqual([]);
  // The woken attempt's own publish fails: its file is gone.
  await expect(store.commit(KEY, first, { size: FILE.length, contentType: 'video/mp4' })).rejects.toThrow(/ENOENT/);
  expect(readFileSync(store.pathOf(KEY)).equals(FILE)).toBe(true);
});

test('a late attempt publishes nothing over a published file: other bytes are refused (ArchiveMismatch), the same bytes are that object', async () => {
  const fresh = await store.stage(KEY, 2);
  await writeFile(fresh, FILE);
  await store.commit(KEY, fresh, { size: FILE.length, contentType: 'video/mp4' });

  const wrong = await store.stage(KEY, 1);
  await writeFile(wrong, Buffer.concat([FILE, Buffer.alloc(131_072, 1)]));
  const refused = await store.commit(KEY, wrong, { size: FILE.length + 131_072, contentType: 'video/mp4' }).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(ArchiveMismatch);
  expect(readFileSync(store.pathOf(KEY)).equals(FILE)).toBe(true);
  expect(staged()).toEqual([]); // its leftovers cleaned

  const same = await store.stage(KEY, 3);
  await writeFile(same, FILE);
  expect(await store.commit(KEY, same, { size: FILE.length, contentType: 'video/mp4' })).toEqual({ size: FILE.length, sha256: sha256(FILE) });
  expect(staged()).toEqual([]);
});

test('an attempt that wakes to find a later attempt under way stops, leaving that attempt\'s file alone', async () => {
  const newer = await store.stage(KEY, 3);
  await writeFile(newer, FILE.subarray(0, 5000));
  await expect(store.stage(KEY, 2)).rejects.toBeInstanceOf(StaleAttempt);
  expect(staged()).toEqual([path.basename(newer)]);
  expect(readFileSync(newer).length).toBe(5000);
});

test('a staging file that does not hold the bytes downloaded is not published', async () => {
  const attempt = await store.stage(KEY, 1);
  await writeFile(attempt, FILE);
  await appendFile(attempt, Buffer.alloc(10));
  await expect(store.commit(KEY, attempt, { size: FILE.length, contentType: 'video/mp4' })).rejects.toThrow(/holds 1048586 bytes, not the 1048576 downloaded/);
  expect(await store.find(KEY)).toBeNull();
});

test('staging files before per-attempt names (a bare key) are resumed from and then removed', async () => {
  await mkdir(path.join(root, '.staging'), { recursive: true });
  await writeFile(path.join(root, '.staging', 'session-store__video.mp4'), FILE.subarray(0, 1000));
  const attempt = await store.stage(KEY, 1);
  expect(readFileSync(attempt).equals(FILE.subarray(0, 1000))).toBe(true);
  expect(staged()).toEqual([path.basename(attempt)]);
});
