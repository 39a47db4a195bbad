/**
 * Worker Versioning on the dev server (Temporal 1.32): the v1/v2 scenario of test/harness/versioning.ts,
 * on a server of its own (its deployment state and the drainage timings it needs stay out of the run's
 * shared server). test/cluster/versioning.cluster.ts runs the same scenario on the production shape.
 */
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { runVersioningScenario, VERSIONING_TEST_DYNAMIC_CONFIG } from '../harness/versioning';

let server: DevServer;
beforeAll(async () => {
  server = await startDevServer({ cliPath: process.env.TEMPORAL_CLI_PATH!, dynamicConfig: VERSIONING_TEST_DYNAMIC_CONFIG });
});
afterAll(() => server?.stop());

test('sessions stay on the build that started them; a new build takes new sessions once current; the old one drains and is retired', async () => {
  await runVersioningScenario(server.address, (line) => console.log(line));
}, 240_000);
