/**
 * `vao`: the command line of video-agent-orchestrator. It talks to the HTTP API (VAO_URL, VAO_TOKEN, or
 * --url/--token) and never to Temporal or HeyGen directly.
 *
 * Exit codes: 0 done; 1 (watch) the session failed, was stopped or expired; 2 usage error; 3 the API
 * could not be reached or refused the request; 10 (watch) the session waits for a person.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REVIEW_LINK_MAX_MS } from '../contract/api';
import { durationProblem, parseDuration } from '../contract/duration';
import type { SessionFile, SessionState } from '../contract/session';
import { ApiCallError, ApiClient, CliError, EXIT, localTokenFile, resolveToken, resolveUrl } from './api-client';
import { listen } from './listen';
import { ENDED, NEEDS_INPUT, nextStep, progressBar, statusLine, summary, table, VAO, waitingFor } from './render';

const USAGE = `vao: HeyGen Video Agent sessions through the video-agent-orchestrator API
(in a clone of the project, run it as \`npx vao ...\`)

Usage:
  vao start --prompt <text> [--file <path|url|asset:ID>]... [--orientation landscape|portrait]
            [--avatar <id>] [--voice <id>] [--auto-approve] [--review-timeout 2d] [--on-timeout stop|approve]
            [--label name=value]... [--notify <url>] [--idempotency-key <key>] [--watch]
  vao status <id>
  vao list [--status <phase>] [--limit <n>] [--cursor <cursor>]
  vao capacity                     HeyGen job slots: who holds them (parked sessions too), who waits
  vao approve <id> [-m <message>] [--idempotency-key <key>]
  vao message <id> -m <message> [--avatar <id>] [--voice <id>] [--file ...]... [--idempotency-key <key>]
  vao stop <id>
  vao video <id> [-o <file.mp4>]   the video's info; with -o, download our archived copy (with a progress bar)
  vao review-link <id> [--name <reviewer>] [--expires 48h]
                                   a link to the review page, for someone without a token
  vao revoke-link <id> <linkId>    that one link stops working (its id is printed when it is made)
  vao watch <id> [--interval 1s]
  vao listen [--port 4020] [--secret whsec_...]
                                   receive and verify notifications (start sessions with --notify <url>)

Options for every command:
  --url <url>     the API (default: VAO_URL, else the address \`npm start\` keeps in .data/api-url,
                  else http://127.0.0.1:3000)
  --token <token> the API token (default: VAO_TOKEN, else the one \`npm start\` keeps in .data/api-token.json)
  --json          print the API's JSON instead of text (for scripts)
  -h, --help      this help

Exit codes:
  0   done (watch: the video is ready)
  1   watch: the session failed, was stopped or expired
  2   a usage error (an unknown command or option, a missing or bad value)
  3   the API could not be reached, refused the token, or refused the request
  10  watch (and start --watch): the session waits for you (a storyboard or a question)
`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  prompt: { type: 'string', short: 'p' },
  message: { type: 'string', short: 'm' },
  file: { type: 'string', multiple: true },
  orientation: { type: 'string' },
  avatar: { type: 'string' },
  voice: { type: 'string' },
  'auto-approve': { type: 'boolean' },
  'review-timeout': { type: 'string' },
  'on-timeout': { type: 'string' },
  label: { type: 'string', multiple: true },
  'idempotency-key': { type: 'string' },
  watch: { type: 'boolean' },
  status: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  interval: { type: 'string' },
  notify: { type: 'string' },
  port: { type: 'string' },
  secret: { type: 'string' },
  name: { type: 'string' },
  expires: { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/** `vao video <id> -o <file>`: downloads the archived video, a progress bar on a terminal, then checks its SHA-256. */
async function downloadVideo(api: ApiClient, id: string, output: string, io: Io): Promise<number> {
  let shown = -1;
  const result = await api.download(`/v1/sessions/${encodeURIComponent(id)}/video/content`, output, (bytes, total) => {
    if (!io.isTTY || !total) return;
    const percent = Math.floor((bytes / total) * 100);
    if (percent === shown) return;
    shown = percent;
    io.err(`\r${progressBar(percent)} ${String(percent).padStart(3)}%  ${(bytes / 2 ** 20).toFixed(1)} / ${(total / 2 ** 20).toFixed(1)} MiB`);
  });
  if (io.isTTY && shown >= 0) io.err('\n');
  if (result.etag && result.etag !== result.sha256) {
    throw new CliError(`The download's SHA-256 (${result.sha256}) is not the archive's (${result.etag}); ${output} may be damaged.`, EXIT.api);
  }
  io.out(`Saved ${output} (${result.bytes} bytes, SHA-256 ${result.sha256})\n`);
  return EXIT.ok;
}

function usage(message: string): CliError {
  return new CliError(`${message}\nRun: ${VAO} --help`, EXIT.usage);
}

/** `--file` values: a local file (sent inline), an http(s) URL, or `asset:<id>`. */
function toFiles(values: string[] | undefined): SessionFile[] | undefined {
  if (!values?.length) return undefined;
  return values.map((value) => {
    if (value.startsWith('asset:')) return { type: 'asset_id' as const, assetId: value.slice('asset:'.length) };
    if (/^https?:\/\//.test(value)) return { type: 'url' as const, url: value };
    let data: Buffer;
    try {
      data = readFileSync(value);
    } catch (error) {
      throw usage(`--file ${value}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    const types: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.mp4': 'video/mp4', '.webm': 'video/webm', '.mp3': 'audio/mpeg', '.wav': 'audio/wav', '.pdf': 'application/pdf' };
    const mediaType = types[path.extname(value).toLowerCase()];
    if (!mediaType) throw usage(`--file ${value}: use png, jpeg, mp4, webm, mp3, wav or pdf (or a URL, or asset:<id>)`);
    return { type: 'base64' as const, mediaType, data: data.toString('base64') };
  });
}

function labels(values: string[] | undefined): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  return Object.fromEntries(
    values.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw usage(`--label ${pair}: expected name=value`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

interface CapacityView {
  accounts: {
    account: string;
    limit: number;
    inUse: number;
    queued: number;
    parkedHolders: number;
    holders: { id: string; since: string; phase: string | null }[];
    waiting: { id: string; position: number | null; since: string }[];
    otherTenants: { holders: number; waiting: number };
  }[];
}

function capacityText({ accounts }: CapacityView): string {
  if (accounts.length === 0) return 'No HeyGen slots are in use (no governor runs yet).';
  return accounts
    .map((a) => {
      const lines = [`HeyGen account ${a.account}: ${a.inUse} of ${a.limit} slots in use (${a.parkedHolders} parked at review), ${a.queued} queued`];
      if (a.holders.length) lines.push(table([['HOLDER', 'PHASE', 'SINCE'], ...a.holders.map((h) => [h.id, h.phase ?? '-', h.since])]));
      if (a.waiting.length) lines.push(table([['QUEUED', 'POSITION', 'SINCE'], ...a.waiting.map((w) => [w.id, String(w.position ?? '-'), w.since])]));
      if (a.otherTenants.holders || a.otherTenants.waiting) lines.push(`Other tenants: ${a.otherTenants.holders} holding, ${a.otherTenants.waiting} queued`);
      return lines.join('\n');
    })
    .join('\n\n');
}

function needId(positionals: string[], command: string): string {
  const id = positionals[1];
  if (!id) throw usage(`vao ${command} needs a session id`);
  return encodeURIComponent(id);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Follows a session until it needs a person or ends; returns the exit code that says which. */
async function watch(api: ApiClient, id: string, flags: Flags, io: Io): Promise<number> {
  const intervalMs = flags.interval ? parseDuration(flags.interval) : 1_000;
  if (!intervalMs) throw usage(`--interval ${flags.interval}: ${durationProblem(flags.interval ?? '')}`);
  let lastLine = '';
  let shownProgress = 0;
  /** Shows a state; returns the exit code once the session needs a person or has ended. */
  const show = (state: SessionState): number | undefined => {
    const done = NEEDS_INPUT.includes(state.phase) || ENDED.includes(state.phase);
    if (flags.json) {
      if (done) io.out(`${JSON.stringify(state)}\n`);
    } else if (io.isTTY) {
      io.out(`\r\x1b[2K${statusLine(state, Date.now(), shownProgress)}`);
      shownProgress = Math.max(shownProgress, state.progress ?? 0);
      if (done) io.out(`\n${nextStep(state)}\n`);
    } else {
      // Without a terminal, one plain line per change.
      const line = `${state.phase} ${state.progress ?? 0}% ${waitingFor(state)}`;
      if (line !== lastLine) io.out(`${new Date().toISOString()} ${line}\n`);
      lastLine = line;
      if (done) io.out(`${nextStep(state)}\n`);
    }
    if (NEEDS_INPUT.includes(state.phase)) return EXIT.needsInput;
    if (state.phase === 'completed') return EXIT.ok;
    if (ENDED.includes(state.phase)) return EXIT.sessionEnded;
    return undefined;
  };

  // Live events first; if the stream cannot be had or breaks, polling carries on from there.
  try {
    let state: SessionState | undefined;
    for await (const { event, data } of api.events(`/v1/sessions/${id}/events`)) {
      state = applyEvent(state, event, data);
      const code = state && event !== 'message' ? show(state) : undefined;
      if (code !== undefined) return code;
    }
  } catch (error) {
    // Refusals (401, 403, 404) are final; anything else is worth polling through.
    if (error instanceof ApiCallError && [401, 403, 404].includes(error.status)) throw error;
  }
  let unavailableSince: number | undefined;
  for (;;) {
    let state: SessionState | undefined;
    try {
      state = (await api.call<SessionState>('GET', `/v1/sessions/${id}`)).body;
      unavailableSince = undefined;
    } catch (error) {
      // No worker for a moment (a restart, a deploy) is worth waiting out; anything else is not.
      const code = (error as { body?: { error?: { code?: string } } }).body?.error?.code;
      if (code !== 'worker_unavailable') throw error;
      unavailableSince ??= Date.now();
      if (!flags.json && io.isTTY) io.out(`\r\x1b[2K${'waiting for a worker'.padEnd(17)} (${Math.round((Date.now() - unavailableSince) / 1000)} s)`);
    }
    if (state) {
      const code = show(state);
      if (code !== undefined) return code;
    }
    await sleep(intervalMs);
  }
}

/** The state a stream's events add up to (a snapshot first, then changes). */
function applyEvent(state: SessionState | undefined, event: string, data: unknown): SessionState | undefined {
  if (event === 'snapshot') return data as SessionState;
  if (!state) return state;
  switch (event) {
    case 'message':
      return { ...state, messages: [...state.messages, data as SessionState['messages'][number]] };
    case 'review':
      return { ...state, review: data as SessionState['review'] };
    case 'video':
      return { ...state, video: data as SessionState['video'] };
    case 'phase':
    case 'progress':
    case 'queue':
      return { ...state, ...(data as Partial<SessionState>) };
    default:
      return state;
  }
}

export async function run(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw usage((error as Error).message);
  }
  const { values: flags, positionals } = parsed;
  const command = positionals[0];
  if (flags.help || !command || command === 'help') {
    io.out(USAGE);
    return command || flags.help ? EXIT.ok : EXIT.usage;
  }
  const api = new ApiClient(resolveUrl(flags.url, io.env), resolveToken(flags.token, io.env));
  const print = (json: unknown, text: string) => io.out(flags.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);

  switch (command) {
    case 'start': {
      if (!flags.prompt) throw usage('vao start needs --prompt');
      if (flags.orientation && !['landscape', 'portrait'].includes(flags.orientation)) throw usage('--orientation: landscape or portrait');
      if (flags['on-timeout'] && !['stop', 'approve'].includes(flags['on-timeout'])) throw usage('--on-timeout: stop or approve');
      const review =
        flags['review-timeout'] || flags['on-timeout']
          ? { ...(flags['review-timeout'] ? { timeout: flags['review-timeout'] } : {}), ...(flags['on-timeout'] ? { onTimeout: flags['on-timeout'] } : {}) }
          : undefined;
      const body = {
        prompt: flags.prompt,
        ...(flags.orientation ? { orientation: flags.orientation } : {}),
        ...(flags.avatar ? { avatarId: flags.avatar } : {}),
        ...(flags.voice ? { voiceId: flags.voice } : {}),
        ...(flags['auto-approve'] ? { autoApprove: true } : {}),
        ...(review ? { review } : {}),
        ...(toFiles(flags.file) ? { files: toFiles(flags.file) } : {}),
        ...(labels(flags.label) ? { labels: labels(flags.label) } : {}),
        ...(flags.notify ? { notify: { url: flags.notify } } : {}),
      };
      const { status, body: created } = await api.call<{ id: string; status: string }>('POST', '/v1/sessions', {
        body,
        idempotencyKey: flags['idempotency-key'],
      });
      if (!flags.watch || flags.json) print(created, `${status === 201 ? 'Started' : 'Already started'}: session ${created.id} (${created.status})\n${nextStep({ id: created.id, phase: 'creating', review: null })}`);
      else io.out(`Started: session ${created.id}\n`);
      return flags.watch ? watch(api, encodeURIComponent(created.id), flags, io) : EXIT.ok;
    }
    case 'status': {
      const { body } = await api.call<SessionState>('GET', `/v1/sessions/${needId(positionals, command)}`);
      print(body, summary(body));
      return EXIT.ok;
    }
    case 'list': {
      const query = new URLSearchParams();
      if (flags.status) query.set('status', flags.status);
      if (flags.limit) query.set('limit', flags.limit);
      if (flags.cursor) query.set('cursor', flags.cursor);
      const { body } = await api.call<{ sessions: { id: string; status: string | null; createdAt: string; promptSummary: string | null }[]; nextCursor: string | null }>(
        'GET',
        `/v1/sessions${query.size ? `?${query}` : ''}`,
      );
      const rows = [['ID', 'STATUS', 'CREATED', 'PROMPT'], ...body.sessions.map((s) => [s.id, s.status ?? '-', s.createdAt, s.promptSummary ?? ''])];
      print(body, body.sessions.length ? `${table(rows)}${body.nextCursor ? `\nMore: ${VAO} list --cursor ${body.nextCursor}` : ''}` : `No sessions. Start one: ${VAO} start --prompt "..."`);
      return EXIT.ok;
    }
    case 'capacity': {
      const { body } = await api.call<CapacityView>('GET', '/v1/capacity');
      print(body, capacityText(body));
      return EXIT.ok;
    }
    case 'approve':
    case 'message': {
      const id = needId(positionals, command);
      if (command === 'message' && !flags.message) throw usage('vao message needs -m <message>');
      const body =
        command === 'approve'
          ? { ...(flags.message ? { message: flags.message } : {}) }
          : {
              message: flags.message,
              ...(flags.avatar ? { avatarId: flags.avatar } : {}),
              ...(flags.voice ? { voiceId: flags.voice } : {}),
              ...(toFiles(flags.file) ? { files: toFiles(flags.file) } : {}),
            };
      const response = await api.call<SessionState | { requestId: string; status: 'accepted' }>('POST', `/v1/sessions/${id}/${command === 'approve' ? 'approve' : 'messages'}`, {
        body,
        idempotencyKey: flags['idempotency-key'],
      });
      const verb = command === 'approve' ? 'Approved' : 'Sent';
      print(
        response.body,
        response.status === 202
          ? `Queued: no worker answered yet; it will be delivered when one runs (request ${(response.body as { requestId: string }).requestId}).`
          : `${verb}. The session is now ${(response.body as SessionState).phase}: ${waitingFor(response.body as SessionState)}\n${nextStep(response.body as SessionState)}`,
      );
      return EXIT.ok;
    }
    case 'stop': {
      const { body } = await api.call<{ id: string; status: string }>('POST', `/v1/sessions/${needId(positionals, command)}/stop`);
      print(body, body.status === 'stopping' ? `Stopping session ${body.id}.` : `Session ${body.id} had already finished.`);
      return EXIT.ok;
    }
    case 'video': {
      const id = needId(positionals, command);
      if (flags.output) return downloadVideo(api, id, flags.output, io);
      const { body } = await api.call<{ url: string | null; durationSeconds: number | null; thumbnailUrl: string | null; archive: { status: string } | null }>('GET', `/v1/sessions/${id}/video`);
      const archived = body.archive?.status === 'archived' ? `\nArchived: ${VAO} video ${id} -o video.mp4 downloads it (our copy does not expire).` : body.archive ? `\nArchive: ${body.archive.status}.` : '';
      print(body, `${body.url ?? '(no URL)'}\n${body.durationSeconds ?? '?'} s${body.thumbnailUrl ? `, thumbnail ${body.thumbnailUrl}` : ''}\n(The URL is HeyGen's and expires; run this again for a fresh one.)${archived}`);
      return EXIT.ok;
    }
    case 'review-link': {
      if (flags.expires && parseDuration(flags.expires) === undefined) throw usage(`--expires ${flags.expires}: ${durationProblem(flags.expires)}`);
      if (flags.expires && parseDuration(flags.expires)! > REVIEW_LINK_MAX_MS) throw usage(`--expires ${flags.expires}: at most 30d`);
      const body = { ...(flags.name ? { name: flags.name } : {}), ...(flags.expires ? { expiresIn: flags.expires } : {}) };
      const id = needId(positionals, command);
      const { body: link } = await api.call<{ id: string; url: string; name: string; expiresAt: string }>('POST', `/v1/sessions/${id}/review-links`, { body });
      print(link, `${link.url}
Opens the review page of this session until ${link.expiresAt}; what is decided there is recorded as ${link.name}.
Anyone with the link can approve: send it only to the reviewer. To revoke it: npx vao revoke-link ${id} ${link.id}`);
      return EXIT.ok;
    }
    case 'revoke-link': {
      const id = needId(positionals, command);
      const linkId = positionals[2];
      if (!linkId) throw usage('vao revoke-link needs the session id and the link id (rl_..., printed when the link was made)');
      const { body } = await api.call<{ linkId: string }>('DELETE', `/v1/sessions/${id}/review-links/${encodeURIComponent(linkId)}`);
      print(body, `Revoked ${body.linkId}: the link no longer opens session ${id}.`);
      return EXIT.ok;
    }
    case 'watch':
      return watch(api, needId(positionals, command), flags, io);
    case 'listen':
      return listenForNotifications(flags, io);
    default:
      throw usage(`unknown command "${command}"`);
  }
}

/** `vao listen`: until Ctrl-C. */
async function listenForNotifications(flags: Flags, io: Io): Promise<number> {
  const secret = flags.secret ?? io.env.VAO_NOTIFY_SECRET ?? localTokenFile(io.env).notifySecret;
  if (!secret) throw usage('vao listen needs the secret that signs your token\'s notifications: --secret whsec_..., or VAO_NOTIFY_SECRET');
  const port = Number(flags.port ?? 4020);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage(`--port ${flags.port}: expected a port number`);
  let listener;
  try {
    listener = await listen({ host: '127.0.0.1', port, secret, out: io.out });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(code === 'EADDRINUSE' ? `port ${port} is in use: pass --port` : `cannot listen: ${(error as Error).message}`, EXIT.usage);
  }
  io.out(`Listening for notifications on ${listener.url} (Ctrl-C to stop). Start a session with:\n  npx vao start --prompt "..." --notify ${listener.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await listener.close();
  return EXIT.ok;
}

/** Runs the CLI on the process's arguments and exits with its code (used by bin/vao.js). */
export function cliMain(): void {
  const io: Io = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
  };
  run(process.argv.slice(2), io).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof CliError) {
        io.err(`vao: ${error.message}\n`);
        process.exit(error.exitCode);
      }
      io.err(`vao: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(EXIT.api);
    },
  );
}
