/**
 * `npm run temporal:setup [-- --wait 2m]`: prepares Temporal for the service and makes the running build
 * current. Safe to run at every deployment:
 *
 * 1. creates the namespace if it is missing and registers the search attributes
 *    (register-search-attributes.ts);
 * 2. makes the worker build (WORKER_DEPLOYMENT_NAME, WORKER_BUILD_ID or its default, as the workers
 *    derive it) the deployment's current version, so that new sessions start on it. Temporal knows a
 *    build once one of its workers has polled: `--wait` waits that long for one (and fails if none
 *    comes); without it a build with no worker yet is only reported, since a setup run before the
 *    workers start (compose's `temporal-setup`) has nothing to promote, and the first worker of a
 *    deployment makes itself current.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../contract/duration';
import { loadDeploymentToolConfig, versionString } from '../config/worker-deployment';
import { runMain, StartupError } from '../lifecycle';
import { connectClient } from './connection';
import { registerSearchAttributes } from './register-search-attributes';
import { BuildNotPollingError, makeBuildCurrent } from './worker-deployment';

function loadSetupConfig(env: NodeJS.ProcessEnv = process.env) {
  return { ...loadDeploymentToolConfig(env), waitMs: waitOption() };
}

/** `--wait <duration>`: how long to wait for a worker of the build (default: not at all). */
function waitOption(): number {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { wait: { type: 'string' } }, strict: true });
  if (values.wait === undefined) return 0;
  const ms = parseDuration(values.wait);
  if (ms === undefined) throw new StartupError(`--wait: expected a duration with a unit (30s, 2m), got ${JSON.stringify(values.wait)}`);
  return ms;
}

runMain('temporal-setup', loadSetupConfig, async ({ config, logger, lifecycle }) => {
  await registerSearchAttributes(config, logger);
  const { deployment } = config;
  if (deployment.versioning) {
    const client = await connectClient(config);
    const version = versionString(deployment);
    try {
      const previous = await makeBuildCurrent(client.connection, config.temporal.namespace, deployment, { waitMs: config.waitMs });
      logger.info({ version, previous, buildIdFrom: deployment.buildIdSource }, previous === deployment.buildId ? 'the build was current already' : 'the build is now current');
    } catch (error) {
      if (!(error instanceof BuildNotPollingError)) throw error;
      if (config.waitMs > 0) throw new StartupError(error.message);
      logger.info({ version }, 'no worker of this build has polled yet: start its workers, then run temporal:setup again (the first build of a deployment makes itself current)');
    } finally {
      await client.connection.close();
    }
  }
  await lifecycle.shutdown('done');
});
