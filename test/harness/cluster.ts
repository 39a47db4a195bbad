/**
 * The production shape, from real parts and natively (no Docker): PostgreSQL from Debian's package as a
 * throwaway cluster, the Temporal server built from its Go module at docker-compose.yml's version and run
 * with the compose file's own configuration (deploy/temporal), its schema applied by the same script the
 * compose file runs, our namespace and search attributes registered by `temporal:setup`, then the HeyGen
 * simulator, workers and API instances as separate processes. Used by `npm run test:cluster`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { createThrowawayCluster, findOrInstallPostgres } from '../../scripts/postgres';
import { ensureTemporalServer, temporalServerArgs } from '../../scripts/temporal-server';
import { findFreePort, portIsFree } from '../../src/temporal/dev-server';
import { PROJECT_ROOT, startProcess, tsNode, type RunningProcess } from './processes';

const run = promisify(execFile);
const DEPLOY_TEMPORAL = path.join(PROJECT_ROOT, 'deploy', 'temporal');

export interface Cluster {
  version: string;
  /** host:port of the Temporal frontend. */
  address: string;
  /** The PostgreSQL port (user `temporal`, databases `temporal` and `temporal_visibility`). */
  postgresPort: number;
  /** What each setup step printed, for the test's output. */
  setupLog: string[];
  stop: () => Promise<void>;
}

/** Seconds since `started`, to one decimal. */
const since = (started: number) => `${((Date.now() - started) / 1000).toFixed(1)} s`;

/**
 * PostgreSQL, its schema, the Temporal server, and `temporal:setup`, in that order. `dynamicConfig` adds
 * test-only values to the shared dynamic config (written to a file of the run's own).
 */
export async function startCluster(log: (line: string) => void, options: { dynamicConfig?: Record<string, unknown> } = {}): Promise<Cluster> {
  const setupLog: string[] = [];
  const note = (line: string) => {
    setupLog.push(line);
    log(line);
  };
  const stops: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
  };
  try {
    let started = Date.now();
    const binaries = ensureTemporalServer(note);
    note(`Temporal server ${binaries.version}: ready in ${since(started)} (${binaries.server})`);

    started = Date.now();
    const postgresPort = await findFreePort();
    const postgresBin = findOrInstallPostgres(note);
    const pg = createThrowawayCluster(postgresBin, postgresPort);
    stops.push(pg.remove);
    const postgres = startProcess(pg.command, pg.args, { ...process.env, LC_ALL: 'C' }, pg.dir, { guarded: true });
    stops.push(() => stopGuarded(postgres));
    await postgres.waitForLine(/ready to accept connections/, 60_000);
    note(`PostgreSQL (${postgresBin}) on 127.0.0.1:${postgresPort}: ready in ${since(started)}`);

    const databaseEnv = { POSTGRES_SEEDS: '127.0.0.1', DB_PORT: String(postgresPort), POSTGRES_USER: pg.user, POSTGRES_PWD: '' };
    // Twice, as every deployment runs it: the second run must find the schema current and succeed.
    for (const round of ['schema', 'schema again']) {
      started = Date.now();
      const schema = await run('sh', [path.join(DEPLOY_TEMPORAL, 'setup-schema.sh')], { env: { ...process.env, ...databaseEnv, TEMPORAL_SQL_TOOL: binaries.sqlTool } });
      note(`${round} (deploy/temporal/setup-schema.sh): ${schema.stdout.trim().split('\n').filter((line) => line.startsWith('database')).join('; ')} in ${since(started)}`);
    }

    started = Date.now();
    const ports = await serverPorts();
    const dynamicConfigFile = withTestDynamicConfig(options.dynamicConfig, stops);
    const server = startProcess(
      binaries.server,
      temporalServerArgs(DEPLOY_TEMPORAL),
      { ...process.env, ...databaseEnv, ...ports.env, LOG_LEVEL: 'warn', DYNAMIC_CONFIG_FILE_PATH: dynamicConfigFile },
      DEPLOY_TEMPORAL,
      { guarded: true },
    );
    stops.push(() => stopGuarded(server));
    const address = `127.0.0.1:${ports.frontend}`;
    await waitForFrontend(address, server);
    note(`Temporal server on ${address} (PostgreSQL persistence and visibility): answering in ${since(started)}`);

    started = Date.now();
    const setup = await run(...tsNode(path.join(PROJECT_ROOT, 'src', 'temporal', 'setup.ts')), {
      env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default', LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
    }).catch((error: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`temporal:setup failed: ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    note(`temporal:setup: ${setupSummary(setup.stdout)} in ${since(started)}`);
    return { version: binaries.version, address, postgresPort, setupLog, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The shared dynamic config file, or a copy with the test's values added (removed at stop). */
function withTestDynamicConfig(values: Record<string, unknown> | undefined, stops: (() => void)[]): string {
  const shared = path.join(DEPLOY_TEMPORAL, 'dynamicconfig.yaml');
  if (!values) return shared;
  const config = parseYaml(readFileSync(shared, 'utf8')) as Record<string, unknown>;
  for (const [key, value] of Object.entries(values)) config[key] = [{ value }];
  const scratch = scratchDir('vao-dynamic-config-');
  stops.push(scratch.remove);
  const file = path.join(scratch.dir, 'dynamicconfig.yaml');
  writeFileSync(file, stringifyYaml(config));
  return file;
}

/** Free ports for the server's four services (gRPC and membership each) and the frontend's HTTP API. */
async function serverPorts() {
  const env: Record<string, string> = {};
  for (const name of ['FRONTEND_GRPC_PORT', 'FRONTEND_HTTP_PORT', 'MATCHING_GRPC_PORT', 'HISTORY_GRPC_PORT', 'WORKER_GRPC_PORT']) env[name] = String(await findFreePort());
  for (const name of ['FRONTEND_MEMBERSHIP_PORT', 'MATCHING_MEMBERSHIP_PORT', 'HISTORY_MEMBERSHIP_PORT', 'WORKER_MEMBERSHIP_PORT']) env[name] = String(await freeMembershipPort());
  return { env, frontend: Number(env.FRONTEND_GRPC_PORT) };
}

/**
 * A free port the server can record for its membership: the SQL schema keeps it in a smallint, so the
 * kernel's ephemeral ports (from 32768) are out of range ("value is out of range for type smallint").
 */
async function freeMembershipPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await portIsFree(port)) return port;
  }
}

async function waitForFrontend(address: string, server: RunningProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`the Temporal server exited (${server.child.exitCode}):\n${server.output().slice(-3000)}`);
    const connection = Connection.lazy({ address, connectTimeout: 2_000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the Temporal server did not answer on ${address}:\n${server.output().slice(-3000)}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await connection.close();
    }
  }
}

/** What `temporal:setup` did, from its JSON log lines. */
function setupSummary(stdout: string): string {
  const lines = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; added?: string[]; namespace?: string });
  const created = lines.some((line) => line.msg === 'namespace created') ? 'namespace default created, ' : '';
  const registered = lines.find((line) => line.msg === 'search attributes registered');
  return `${created}search attributes added: ${registered?.added?.join(', ') || 'none'}`;
}

/** Stops a server run under the orphan guard: closing its stdin makes the guard stop it. */
async function stopGuarded(server: RunningProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.stdin?.end();
  await server.exited;
}

/** A scratch folder removed by the returned function. */
export function scratchDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
