/**
 * Starts and stops `temporal server start-dev`: the embedded Temporal server of `npm start`,
 * `npm run temporal` and the test suite.
 *
 * The server runs under a small guard process (orphan-guard.cjs) so it dies with us even when we are
 * killed with SIGKILL, and in its own process group so that a Ctrl-C at the terminal reaches us first
 * and we choose the order of shutdown (workers drain before the server goes away).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { parse as parseYaml } from 'yaml';
import { UserFacingError } from '../errors';
import type { Logger } from '../logging';
import { SEARCH_ATTRIBUTES, type AnySearchAttributeKey } from '../contract/search-attributes';
import { PROJECT_ROOT } from '../paths';

const GUARD_SCRIPT = path.join(__dirname, 'orphan-guard.cjs');
const OUTPUT_TAIL_LINES = 12;

/** The `--search-attribute Name=Type` spelling of each SDK search attribute type. */
const CLI_SEARCH_ATTRIBUTE_TYPE: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export interface DevServerOptions {
  /** The Temporal CLI binary (see `ensureTemporalCli`). */
  cliPath: string;
  /** Interface to bind; 127.0.0.1 keeps the server off the network. */
  ip?: string;
  /** Frontend gRPC port; omitted or 0 picks a free one. */
  port?: number;
  /** Serve the Web UI on `uiPort`: by default port + 1000 when the port is given, else a free one. */
  ui?: boolean;
  uiPort?: number;
  /** SQLite file for persistence across restarts; omitted keeps everything in memory. */
  dbFile?: string;
  /** Namespace to create besides `default`. */
  namespace?: string;
  searchAttributes?: readonly AnySearchAttributeKey[];
  /** `--dynamic-config-value KEY=VALUE` pairs (values are JSON-encoded). */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Append the server's own output to this file. */
  logFile?: string;
  /** How long to wait for the frontend to answer. */
  startTimeoutMs?: number;
  /** How long the server gets to stop before it is killed. */
  stopGraceMs?: number;
  logger?: Logger;
}

export interface DevServer {
  /** host:port for clients and workers. */
  address: string;
  port: number;
  namespace: string;
  uiUrl?: string;
  /** Its HTTP API and its metrics: chosen here rather than left random, so `npm start` knows every port it serves. */
  httpPort: number;
  metricsPort: number;
  dbFile?: string;
  /** Process group of the guard and the server. */
  pgid: number;
  /** Stops the server and waits until it has exited. Safe to call more than once. */
  stop(): Promise<void>;
  /** Settles when the server process ends, whether stopped or crashed. */
  exited: Promise<{ code: number | null }>;
}

export type DevServerFailure = 'port_in_use' | 'ui_port_in_use' | 'exited' | 'timeout';

export class DevServerError extends UserFacingError {
  override readonly name = 'DevServerError';
  constructor(
    readonly failure: DevServerFailure,
    message: string,
    readonly port?: number,
    readonly output = '',
  ) {
    super(output ? `${message}\nLast output of the Temporal server:\n${output}` : message);
  }
}

/** A port that was free a moment ago. Another process can still take it before we bind it. */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The Temporal server's dynamic config that every server of ours runs with (compose, test:cluster, dev). */
export const SHARED_DYNAMIC_CONFIG_FILE = path.join(PROJECT_ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml');

/** The shared file's unconstrained values, as the dev server's `--dynamic-config-value` takes them. */
export function sharedDynamicConfig(file = SHARED_DYNAMIC_CONFIG_FILE): Record<string, unknown> {
  const entries = parseYaml(readFileSync(file, 'utf8')) as Record<string, { value: unknown; constraints?: unknown }[]>;
  const values: Record<string, unknown> = {};
  for (const [key, settings] of Object.entries(entries)) {
    const unconstrained = settings.find((setting) => setting.constraints === undefined);
    if (unconstrained) values[key] = unconstrained.value;
  }
  return values;
}

function buildArgs(options: DevServerOptions, ports: { port: number; httpPort: number; metricsPort: number }, uiPort: number | undefined, namespace: string): string[] {
  const { port, httpPort, metricsPort } = ports;
  const args = ['server', 'start-dev', '--ip', options.ip ?? '127.0.0.1', '--port', String(port), '--http-port', String(httpPort), '--metrics-port', String(metricsPort), '--log-level', 'warn'];
  if (uiPort !== undefined) args.push('--ui-port', String(uiPort), '--ui-disable-news-fetch');
  else args.push('--headless');
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const key of options.searchAttributes ?? SEARCH_ATTRIBUTES) {
    args.push('--search-attribute', `${key.name}=${CLI_SEARCH_ATTRIBUTE_TYPE[key.type]}`);
  }
  const dynamicConfig = { ...sharedDynamicConfig(), ...options.dynamicConfig };
  for (const [key, value] of Object.entries(dynamicConfig)) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return args;
}

function classifyExit(output: string, port: number, uiPort: number | undefined): DevServerError {
  if (/can't set frontend port|frontend port .* address already in use/i.test(output)) {
    return new DevServerError('port_in_use', `Port ${port} is already in use; the Temporal dev server cannot listen on it.`, port, output);
  }
  // The CLI checks the UI port before starting, but the UI server can still lose it in a race.
  if (/can't set UI port/i.test(output) || (uiPort !== undefined && new RegExp(`:${uiPort}: bind: address already in use`).test(output))) {
    return new DevServerError('ui_port_in_use', `Port ${uiPort} is already in use; the Temporal Web UI cannot listen on it.`, uiPort, output);
  }
  return new DevServerError('exited', 'The Temporal dev server exited during start-up.', port, output);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** True once the frontend answers gRPC and lists every search attribute we asked for. */
async function isReady(address: string, namespace: string, searchAttributes: readonly string[]): Promise<boolean> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  if (!(await canConnect(host, port))) return false;
  // `Connection.connect` would leak its channel when the connect fails; a lazy one we can always close.
  const connection = Connection.lazy({ address, connectTimeout: 2_000 });
  try {
    await connection.ensureConnected();
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const registered = new Set(Object.keys(customAttributes ?? {}));
    return searchAttributes.every((name) => registered.has(name));
  } catch {
    return false;
  } finally {
    await connection.close();
  }
}

interface Spawned {
  guard: ChildProcess;
  exited: Promise<{ code: number | null }>;
  tail: () => string;
}

function spawnGuarded(cliPath: string, args: string[], stopGraceMs: number, logFile: WriteStream | undefined): Spawned {
  const guard = spawn(process.execPath, [GUARD_SCRIPT, String(stopGraceMs), cliPath, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: string[] = [];
  // A Go panic prints its reason first and a long stack after: keep the reason in view.
  const panic: string[] = [];
  const onOutput = (chunk: Buffer) => {
    logFile?.write(chunk);
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      lines.push(line);
      if (/^(panic|fatal error):/.test(line) || (panic.length > 0 && panic.length < 6)) panic.push(line);
    }
    lines.splice(0, Math.max(0, lines.length - OUTPUT_TAIL_LINES));
  };
  guard.stdout?.on('data', onOutput);
  guard.stderr?.on('data', onOutput);
  // The pipe closing is how the guard learns we are gone; an EPIPE on it is expected then, not fatal.
  guard.stdin?.on('error', () => {});
  const exited = new Promise<{ code: number | null }>((resolve) => {
    guard.once('exit', (code) => resolve({ code }));
  });
  return { guard, exited, tail: () => [...(panic.length ? [...panic, '...'] : []), ...lines].join('\n') };
}

/** True when nothing listens on the port (we could bind it a moment ago). */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

async function startOnce(options: DevServerOptions, port: number, uiPort: number | undefined, namespace: string): Promise<DevServer> {
  const host = options.ip ?? '127.0.0.1';
  // Checked first: otherwise a server already on the port would answer our readiness check as if ours.
  if (!(await portIsFree(port, host))) {
    throw new DevServerError('port_in_use', `Port ${port} is already in use; the Temporal dev server cannot listen on it.`, port);
  }
  if (uiPort !== undefined && !(await portIsFree(uiPort, host))) {
    throw new DevServerError('ui_port_in_use', `Port ${uiPort} is already in use; the Temporal Web UI cannot listen on it.`, uiPort);
  }
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const logger = options.logger;
  if (options.dbFile) await mkdir(path.dirname(options.dbFile), { recursive: true });
  let logFile: WriteStream | undefined;
  if (options.logFile) {
    await mkdir(path.dirname(options.logFile), { recursive: true });
    logFile = createWriteStream(options.logFile, { flags: 'a' });
  }
  const [httpPort, metricsPort] = [await findFreePort(host), await findFreePort(host)];
  const args = buildArgs(options, { port, httpPort, metricsPort }, uiPort, namespace);
  logger?.debug({ cli: options.cliPath, args }, 'starting the Temporal dev server');
  const { guard, exited, tail } = spawnGuarded(options.cliPath, args, stopGraceMs, logFile);
  const address = `${options.ip ?? '127.0.0.1'}:${port}`;
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    logFile?.end();
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (hasExited) return;
      guard.stdin?.end();
      const killer = setTimeout(() => {
        logger?.warn({ address }, 'the Temporal dev server did not stop in time; killing it');
        try {
          process.kill(-guard.pid!, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }, stopGraceMs + 2_000);
      await exited;
      clearTimeout(killer);
    })();
    return stopping;
  };

  const deadline = Date.now() + startTimeoutMs;
  const wanted = (options.searchAttributes ?? SEARCH_ATTRIBUTES).map((key) => key.name);
  for (;;) {
    if (hasExited) throw classifyExit(tail(), port, uiPort);
    if (await isReady(address, namespace, wanted)) break;
    if (Date.now() > deadline) {
      const output = tail();
      await stop();
      throw new DevServerError('timeout', `The Temporal dev server did not answer on ${address} within ${startTimeoutMs} ms.`, port, output);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const server: DevServer = {
    address,
    port,
    namespace,
    uiUrl: uiPort === undefined ? undefined : `http://${options.ip ?? '127.0.0.1'}:${uiPort}`,
    httpPort,
    metricsPort,
    dbFile: options.dbFile,
    pgid: guard.pid!,
    stop,
    exited,
  };
  logger?.info({ address, ui: server.uiUrl, db: options.dbFile ?? '(in memory)' }, 'Temporal dev server ready');
  return server;
}

/**
 * Starts a dev server and resolves once its frontend answers and the search attributes are registered.
 * Throws {@link DevServerError} (`port_in_use`, `ui_port_in_use`, `exited`, `timeout`) with the
 * server's last output. When the port is picked automatically, a port taken in the meantime is retried.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const namespace = options.namespace ?? 'default';
  const automaticPort = !options.port;
  const automaticUiPort = options.ui === true && options.uiPort === undefined && automaticPort;
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await findFreePort(options.ip));
    const uiPort = options.ui ? (options.uiPort ?? (automaticUiPort ? await findFreePort(options.ip) : port + 1000)) : undefined;
    try {
      return await startOnce(options, port, uiPort, namespace);
    } catch (error) {
      const retryable =
        error instanceof DevServerError &&
        ((error.failure === 'port_in_use' && automaticPort) || (error.failure === 'ui_port_in_use' && automaticUiPort));
      if (retryable && attempt < 3) continue;
      throw error;
    }
  }
}
