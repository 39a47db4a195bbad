/**
 * `npm run setup`: makes sure a Temporal CLI is available (installing the pinned one into .tools/ if
 * needed) and says which one will be used. `npm start` and `npm test` do the same on their own; this is
 * for doing it ahead of time, e.g. in a Docker build or on a machine that goes offline later.
 */
import { loadTemporalConfig } from '../config/temporal';
import { UserFacingError } from '../errors';
import { createLogger } from '../logging';
import { ensureTemporalCli } from './cli';

async function main(): Promise<void> {
  const config = loadTemporalConfig();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const cli = await ensureTemporalCli({ cliPath: config.temporal.cliPath, logger });
  process.stdout.write(`Temporal CLI: ${cli.path}\n  ${cli.version}\n  (found via ${cli.source})\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof UserFacingError ? error.message : String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
