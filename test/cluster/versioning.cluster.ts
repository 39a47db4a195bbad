/**
 * Worker Versioning on the production shape (`npm run test:cluster`): the v1/v2 scenario of
 * test/harness/versioning.ts on the Temporal server compose runs (1.29.1, PostgreSQL persistence and SQL
 * visibility), with the drainage timings shortened for the test.
 */
import { startCluster, type Cluster } from '../harness/cluster';
import { runVersioningScenario, VERSIONING_TEST_DYNAMIC_CONFIG } from '../harness/versioning';

const log = (line: string) => process.stdout.write(`[cluster versioning] ${line}\n`);
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster(log, { dynamicConfig: VERSIONING_TEST_DYNAMIC_CONFIG });
}, 20 * 60_000);
afterAll(() => cluster?.stop(), 120_000);

test('sessions stay on the build that started them; a new build takes new sessions once current; the old one drains and is retired', async () => {
  await runVersioningScenario(cluster.address, log);
}, 5 * 60_000);
