/**
 * `npm run -s temporal:cli -- <args>`: runs the Temporal CLI the project uses (found or installed as for
 * the dev server), pointed at TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE unless the arguments say otherwise.
 */
import { spawn } from 'node:child_process';
import { loadTemporalConfig } from '../config/temporal';
import { UserFacingError } from '../errors';
import { ensureTemporalCli } from './cli';

async function main(): Promise<void> {
  const config = loadTemporalConfig();
  const cli = await ensureTemporalCli({ cliPath: config.temporal.cliPath });
  const child = spawn(cli.path, process.argv.slice(2), {
    stdio: 'inherit',
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? config.temporal.address,
      TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE ?? config.temporal.namespace,
    },
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof UserFacingError ? error.message : String(error)}\n`);
  process.exit(1);
});
