/**
 * The `vao` command as a process against a running API: every command, --json, the exit codes of
 * watch, a progress bar on a terminal and plain lines elsewhere, and clear errors.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startApiHarness, TOKENS, waitForApiPhase, type ApiHarness } from '../harness/api';
import { PROJECT_ROOT, startProcess } from '../harness/processes';

const VAO = path.join(PROJECT_ROOT, 'bin', 'vao.js');
let api: ApiHarness;
let scratch: string;

// acme's sessions can notify (its secret is known to the worker), to a receiver on this machine.
const NOTIFY_SECRET = `whsec_${Buffer.from('the cli test notification secret').toString('base64')}`;
const notifyEnv = { API_TOKENS: JSON.stringify([{ ...TOKENS.acme, notifySecret: NOTIFY_SECRET }, ...Object.values(TOKENS).filter((t) => t !== TOKENS.acme)]), NOTIFY_ALLOW_PRIVATE: 'true' };

beforeAll(async () => {
  api = await startApiHarness({ env: notifyEnv, sessions: { env: notifyEnv } });
  scratch = await mkdtemp(path.join(os.tmpdir(), 'vao-cli-'));
});
afterAll(async () => {
  await api?.close();
  await rm(scratch, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function vao(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [VAO, ...args],
      { env: { ...process.env, VAO_URL: api.url, VAO_TOKEN: TOKENS.acme.token, DATA_DIR: scratch, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The `script` command line that runs vao under a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
function terminalArgs(args: string[]): string[] {
  const command = [process.execPath, VAO, ...args].map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
  return ['-qefc', command, '/dev/null'];
}

/** Runs vao under a pseudo-terminal. */
function vaoOnTerminal(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('script', terminalArgs(args), { env: { ...process.env, VAO_URL: api.url, VAO_TOKEN: TOKENS.acme.token }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the session commands', () => {
  test('start --watch follows the session to its review and exits 10; status, message, approve, watch, video finish it', async () => {
    const png = path.join(PROJECT_ROOT, 'src', 'simulator', 'media', 'storyboard.png');
    const started = await vao([
      'start',
      '--prompt',
      'A teaser from the CLI [[sim think=50s revise=50s generate=50s]]',
      '--file',
      png,
      '--file',
      'https://example.com/logo.png',
      '--file',
      'asset:asset_123',
      '--label',
      'team=growth',
      '--review-timeout',
      '2d',
      '--watch',
    ]);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(10);
    const id = /Started: session (\S+)/.exec(started.stdout)![1]!;
    // Not a terminal: plain, timestamped lines, one per change, ending at the review.
    const lines = started.stdout.trim().split('\n').slice(1);
    expect(lines.at(-2)).toMatch(/^\d{4}-\d\d-\d\dT\S+Z reviewing 45% storyboard 1 is ready: waiting for your review$/);
    // Every command ends with what to run next, in a form that works in a fresh clone.
    expect(lines.at(-1)).toBe(`Next: npx vao status ${id} (the storyboard), then npx vao approve ${id} or npx vao message ${id} -m "what to change"`);
    expect(started.stdout).not.toContain('\r');

    const status = await vao(['status', id]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`Session   ${id}`);
    expect(status.stdout).toMatch(/Storyboard 1 \(since/);
    expect(status.stdout).toMatch(/- image res_\w+: http:\/\/127\.0\.0\.1:\d+\/media\/resources\//);
    expect(status.stdout).toContain(`Approve: npx vao approve ${id}`);
    const json = JSON.parse((await vao(['status', id, '--json'])).stdout) as { phase: string; labels: Record<string, string> };
    expect(json).toMatchObject({ phase: 'reviewing', labels: { team: 'growth' } });

    const message = await vao(['message', id, '-m', 'Make the intro shorter']);
    expect([message.code, message.stdout.trim()]).toEqual([0, expect.stringMatching(/^Sent\. The session is now (thinking|reviewing)[^\n]*\nNext: npx vao (watch|status) /)]);
    await waitForApiPhase(api, id, 'reviewing');
    const approve = await vao(['approve', id, '-m', 'Go ahead', '--idempotency-key', 'cli-approve-1']);
    expect(approve.code).toBe(0);
    expect(approve.stdout).toMatch(/^Approved\. The session is now (generating|thinking|finalizing|completed)/);

    const watched = await vao(['watch', id, '--interval', '200ms']);
    expect(watched.code).toBe(0);
    expect(watched.stdout.trim().split('\n').at(-2)).toMatch(/completed 100% done: http:\/\/.*video\.mp4/);
    expect(watched.stdout.trim().split('\n').at(-1)).toBe(`Next: npx vao video ${id}`);

    const video = await vao(['video', id]);
    expect(video.stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/media\/videos\/\w+\/video\.mp4\?\S+\n30 s, thumbnail http/);
    expect(video.stdout).toContain(`Archived: npx vao video ${id} -o video.mp4 downloads it`);

    // Our archived copy, downloaded and checked against the archive's SHA-256.
    const saved = path.join(scratch, 'video.mp4');
    const download = await vao(['video', id, '-o', saved]);
    const { archive } = (await api.call<{ archive: { entries: { file: string; sha256: string; size: number }[] } }>('GET', `/v1/sessions/${id}/video`)).body;
    const entry = archive.entries.find((e) => e.file === 'video')!;
    expect(download).toMatchObject({ code: 0, stderr: '' });
    expect(download.stdout.trim()).toBe(`Saved ${saved} (${entry.size} bytes, SHA-256 ${entry.sha256})`);
    expect(createHash('sha256').update(await readFile(saved)).digest('hex')).toBe(entry.sha256);
    // On a terminal, a progress bar on stderr that reaches 100%.
    const onTerminal = await vaoOnTerminal(['video', id, '-o', path.join(scratch, 'again.mp4')]);
    expect(onTerminal.stdout).toMatch(/100%/);
    const [heygen] = await api.sessions.heygenSessions(id);
    expect(heygen!.messages.map((m) => m.message)).toEqual(['Make the intro shorter', 'Go ahead']);
  });

  test('list, with --status and --json', async () => {
    const { stdout } = await vao(['start', '--prompt', 'Listed [[sim think=1h]]', '--json']);
    const { id } = JSON.parse(stdout) as { id: string };
    await waitForApiPhase(api, id, 'thinking');
    const table = await vao(['list', '--status', 'thinking', '--limit', '50']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+CREATED\s+PROMPT$/);
    expect(table.stdout).toMatch(new RegExp(`${id}\\s+thinking\\s+\\S+\\s+Listed`));
    const json = JSON.parse((await vao(['list', '--json'])).stdout) as { sessions: { id: string }[] };
    expect(json.sessions.map((s) => s.id)).toContain(id);
    expect((await vao(['list', '--status', 'expired'])).stdout.trim()).toBe('No sessions. Start one: npx vao start --prompt "..."');
  });

  test('capacity shows which sessions hold HeyGen slots, parked ones too', async () => {
    const { stdout } = await vao(['start', '--prompt', 'Parked for capacity [[sim think=50s]]', '--json']);
    const { id } = JSON.parse(stdout) as { id: string };
    await waitForApiPhase(api, id, 'reviewing');
    const capacity = await vao(['capacity']);
    expect(capacity.code).toBe(0);
    expect(capacity.stdout).toMatch(/^HeyGen account [0-9a-f]{16}: \d+ of 1000 slots in use \(\d+ parked at review\), 0 queued$/m);
    expect(capacity.stdout).toMatch(new RegExp(`${id}\\s+reviewing\\s+\\S+`));
    const json = JSON.parse((await vao(['capacity', '--json'])).stdout) as { accounts: { holders: { id: string }[] }[] };
    expect(json.accounts[0]!.holders.map((h) => h.id)).toContain(id);
  });

  test('review-link prints a link that opens the session as the named reviewer, and how to revoke it; a bad --expires is a usage error', async () => {
    const { stdout } = await vao(['start', '--prompt', 'Linked [[sim think=50s]]', '--json']);
    const { id } = JSON.parse(stdout) as { id: string };
    await waitForApiPhase(api, id, 'reviewing');
    const made = await vao(['review-link', id, '--name', 'Dana', '--expires', '2h']);
    expect(made.code).toBe(0);
    const [url, explained] = made.stdout.trim().split('\n');
    expect(url).toMatch(new RegExp(`^${api.url}/review/${id}#t=rl1\\.`));
    expect(explained).toMatch(/until \S+Z; what is decided there is recorded as link:Dana\.$/);
    // Each link says how to revoke it alone; revoked, it opens nothing.
    const other = (await vao(['review-link', id, '--name', 'Eve'])).stdout.trim().split('\n');
    const revokeHint = /To revoke it: npx vao revoke-link (\S+) (rl_\S+)$/.exec(other[2] ?? '');
    expect(revokeHint?.[1]).toBe(id);
    const revoked = await vao(['revoke-link', id, revokeHint![2]!]);
    expect([revoked.code, revoked.stdout.trim()]).toEqual([0, `Revoked ${revokeHint![2]}: the link no longer opens session ${id}.`]);
    expect((await api.call('GET', `/v1/sessions/${id}`, { token: other[0]!.slice(other[0]!.indexOf('#t=') + 3) })).status).toBe(401);
    expect((await vao(['revoke-link', id])).code).toBe(2);
    const approved = await api.call<{ actions: { by: string }[] }>('POST', `/v1/sessions/${id}/approve`, { token: url!.slice(url!.indexOf('#t=') + 3), body: {} });
    expect([approved.status, approved.body.actions.at(-1)?.by]).toEqual([200, 'link:Dana']);
    const bad = await vao(['review-link', id, '--expires', '48']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/--expires 48: .*a bare number has no unit/)]);
  });

  test('stop, and stop again', async () => {
    const { stdout } = await vao(['start', '--prompt', 'Stopped [[sim think=1h]]', '--json']);
    const { id } = JSON.parse(stdout) as { id: string };
    await waitForApiPhase(api, id, 'thinking');
    expect((await vao(['stop', id])).stdout.trim()).toBe(`Stopping session ${id}.`);
    const watched = await vao(['watch', id, '--interval', '100ms']);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toMatch(/stopped/);
    expect((await vao(['stop', id])).stdout.trim()).toBe(`Session ${id} had already finished.`);
  });

  test('status of a session stopped at its review shows what is true now: no deadline, no HeyGen status of before, no commands that would fail', async () => {
    const { stdout } = await vao(['start', '--prompt', 'Stopped at review [[sim think=50s]]', '--json']);
    const { id } = JSON.parse(stdout) as { id: string };
    await waitForApiPhase(api, id, 'reviewing');
    expect((await vao(['status', id])).stdout).toMatch(/Approve: npx vao approve/);
    await vao(['stop', id]);
    await waitForApiPhase(api, id, 'stopped');
    const shown = (await vao(['status', id])).stdout;
    const stale = ['HeyGen: reviewing', '45%', 'deadline', 'Approve:', 'Ask for changes:'].filter((words) => shown.includes(words));
    console.log(`vao status of a stopped session:\n${shown}\nstale or dead-end parts: ${stale.length ? stale.join(', ') : 'none'}`);
    expect(stale).toEqual([]);
    expect(shown).toMatch(/^Phase {5}stopped \(since \S+\)$/m);
    // What stays true: the storyboard there was, as history.
    expect(shown).toMatch(/^Last storyboard 1 \(shown \S+, not approved\)/m);
    expect(await vao(['approve', id])).toMatchObject({ code: 3 });
  });

  test('watch on a terminal draws a progress bar on one line', async () => {
    // HeyGen thinks until the bar is drawn, however long vao takes to start here; then the storyboard comes.
    const { stdout } = await vao(['start', '--prompt', 'On a terminal [[sim think=1000h]]', '--json']);
    const { id } = JSON.parse(stdout) as { id: string };
    const { heygenSessionId } = await waitForApiPhase(api, id, 'thinking');
    const watcher = startProcess('script', terminalArgs(['watch', id, '--interval', '100ms']), { ...process.env, VAO_URL: api.url, VAO_TOKEN: TOKENS.acme.token });
    try {
      await watcher.waitForLine(/thinking\s+\[#*-+\]\s+\d+%\s+(\d+s|\d+m \d\ds)\s+HeyGen is writing the storyboard/);
      await api.sessions.sim.finishPhase(heygenSessionId as string);
      expect((await watcher.exited).code).toBe(10);
    } finally {
      watcher.child.kill();
    }
    expect(watcher.output()).toContain('\r\x1b[2K');
    expect(watcher.output()).toMatch(/reviewing\s+\[#########-----------\]\s+45%/);
  });
});

test('watch follows the live stream: with polling an hour apart it still exits 10 as soon as the storyboard is there', async () => {
  const { body } = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Live [[sim think=3000s]]' } });
  await waitForApiPhase(api, body.id, 'thinking');
  const watched = await vao(['watch', body.id, '--interval', '1h']);
  expect(watched.code).toBe(10);
  expect(watched.stdout).toMatch(/reviewing/);
});

test('listen verifies and prints the notifications of a session started with --notify, and refuses a forged one', async () => {
  const listener = startProcess(process.execPath, [VAO, 'listen', '--port', '0'], { ...process.env, VAO_NOTIFY_SECRET: NOTIFY_SECRET });
  try {
    const line = await listener.waitForLine(/Listening for notifications on (http:\/\/127\.0\.0\.1:\d+\/)/);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)![1]!;
    const started = await vao(['start', '--prompt', 'Tell me [[sim review=skip think=50s generate=50s]]', '--auto-approve', '--notify', url]);
    expect(started.code).toBe(0);
    const id = /session (session-\S+)/.exec(started.stdout)![1]!;
    await listener.waitForLine(new RegExp(`session\\.completed ${id} completed video http`));
    const forged = await fetch(url, { method: 'POST', headers: { 'webhook-id': 'evt-x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' }, body: '{}' });
    expect(forged.status).toBe(401);
    await listener.waitForLine(/refused a delivery/);
  } finally {
    listener.child.kill('SIGINT');
  }
  expect((await listener.exited).code).toBe(0);
});

describe('errors', () => {
  test('the API is unreachable', async () => {
    const run = await vao(['list'], { VAO_URL: 'http://127.0.0.1:9' });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^vao: Cannot reach the API at http:\/\/127\.0\.0\.1:9 .*Set VAO_URL or --url/);
  });

  test('a bad token, a missing scope, an unknown id, a refused decision, a video not ready', async () => {
    expect(await vao(['list', '--token', 'tok_wrong_0123456789abcdef'])).toMatchObject({ code: 3, stderr: expect.stringMatching(/^vao: The API refused the token/) });
    expect(await vao(['stop', 'session-x'], { VAO_TOKEN: TOKENS.acmeReader.token })).toMatchObject({ code: 3, stderr: expect.stringMatching(/may not do this/) });
    expect(await vao(['status', 'session-unknown'])).toMatchObject({ code: 3, stderr: 'vao: No session session-unknown (or not yours).\n' });
    const { stdout } = await vao(['start', '--prompt', 'Busy [[sim think=1h]]', '--json']);
    const { id } = JSON.parse(stdout) as { id: string };
    await waitForApiPhase(api, id, 'thinking');
    expect(await vao(['approve', id])).toMatchObject({ code: 3, stderr: expect.stringMatching(/not waiting for a decision \(it is thinking\)\. \[not_awaiting_input\]/) });
    expect(await vao(['video', id])).toMatchObject({ code: 3, stderr: expect.stringMatching(/\[video_not_ready\]/) });
    const download = await vao(['video', id, '-o', path.join(scratch, 'early.mp4')]);
    expect(download).toMatchObject({ code: 3, stderr: expect.stringMatching(/\[video_not_ready\]/) });
    expect(existsSync(path.join(scratch, 'early.mp4')) || existsSync(path.join(scratch, 'early.mp4.part'))).toBe(false);
  });

  test.each([
    [['start'], /vao start needs --prompt/],
    [['start', '--prompt', 'x', '--orientation', 'square'], /--orientation: landscape or portrait/],
    [['start', '--prompt', 'x', '--file', '/nope/missing.png'], /--file \/nope\/missing\.png: cannot read it \(ENOENT\)/],
    [['start', '--prompt', 'x', '--label', 'novalue'], /--label novalue: expected name=value/],
    [['message', 'session-1'], /vao message needs -m/],
    [['status'], /vao status needs a session id/],
    [['watch', 'session-1', '--interval', 'often'], /--interval often: expected a duration/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['list', '--bogus'], /Unknown option '--bogus'/],
  ])('usage error %j exits 2', async (args, message) => {
    const run = await vao(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('vao --help');
  });

  test('without --token or VAO_TOKEN the token npm start keeps is used; without one either, a clear error', async () => {
    await writeFile(path.join(scratch, 'api-token.json'), JSON.stringify(TOKENS.admin));
    expect((await vao(['list'], { VAO_TOKEN: '' })).code).toBe(0);
    const none = await vao(['list'], { VAO_TOKEN: '', DATA_DIR: path.join(scratch, 'empty') });
    expect(none).toMatchObject({ code: 3, stderr: expect.stringMatching(/No API token: pass --token, set VAO_TOKEN/) });
  });

  test('without --url or VAO_URL the address npm start recorded beside its token is used, on whatever PORT it runs', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vao-cli-data-'));
    try {
      // As `npm start` on a non-default PORT leaves it: its token and its address.
      await writeFile(path.join(dataDir, 'api-token.json'), JSON.stringify(TOKENS.admin));
      await writeFile(path.join(dataDir, 'api-url'), `${api.url}\n`);
      const run = await vao(['list'], { VAO_URL: '', VAO_TOKEN: '', DATA_DIR: dataDir });
      console.log(`vao list with npm start's .data only (API at ${api.url}): exit ${run.code} ${run.stderr.trim()}`);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      // A flag or VAO_URL still wins.
      expect(await vao(['list', '--url', 'http://127.0.0.1:9'], { VAO_URL: '', VAO_TOKEN: '', DATA_DIR: dataDir })).toMatchObject({ code: 3, stderr: expect.stringMatching(/127\.0\.0\.1:9/) });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('--help gives the exit codes of every command; --expires past its limit speaks of --expires; hints name npx vao, without backticks', async () => {
    const help = (await vao(['--help'])).stdout;
    const bad = await vao(['review-link', 'session-x', '--expires', '90d']);
    const hint = (await vao(['frobnicate'])).stderr;
    console.log(`help's exit codes: ${JSON.stringify(help.slice(help.indexOf('Exit codes')))}; --expires 90d: ${bad.code} ${bad.stderr.trim()}; hint: ${hint.trim().split('\n').at(-1)}`);
    expect(help).toMatch(/Exit codes:\n {2}0 +.*\n {2}1 +.*watch.*\n {2}2 +.*usage.*\n {2}3 +.*API.*\n {2}10 +.*watch/);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/^vao: --expires 90d: at most 30d/)]);
    expect(bad.stderr).not.toContain('expiresIn');
    expect(hint).toMatch(/Run: npx vao --help/);
    expect(hint).not.toContain('`');
  });

  test('--help lists every command', async () => {
    const run = await vao(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['start', 'status', 'list', 'capacity', 'approve', 'message', 'stop', 'video', 'review-link', 'revoke-link', 'watch']) expect(run.stdout).toContain(`vao ${command}`);
  });
});
