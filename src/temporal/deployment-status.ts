/**
 * `npm run deployment:status`: every build of the service's Worker Deployment, what it is doing and how
 * many open sessions are pinned to it, so an operator knows when an old build is drained and its workers
 * can go (README, "Deploying a new version"). Reads Temporal (the deployment and visibility) only.
 */
import { loadDeploymentToolConfig } from '../config/worker-deployment';
import { runReport } from '../lifecycle';
import { connectClient } from './connection';
import { deploymentStatus, type BuildStatus } from './worker-deployment';

/** The table people read, one line per build. */
export function formatDeploymentStatus(deploymentName: string, namespace: string, builds: BuildStatus[], thisBuild: string): string {
  if (builds.length === 0) return `Worker deployment ${deploymentName} (namespace ${namespace}): no build has run yet.\n`;
  const rows = [['build', 'status', 'pinned sessions', 'next'], ...builds.map((b) => [`${b.buildId}${b.buildId === thisBuild ? ' (this checkout)' : ''}`, b.status, String(b.pinnedSessions), b.next])];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
  return `Worker deployment ${deploymentName} (namespace ${namespace}):\n${lines.map((line) => `  ${line}`).join('\n')}\n`;
}

async function main(): Promise<void> {
  const config = loadDeploymentToolConfig();
  const client = await connectClient(config);
  try {
    const { namespace } = config.temporal;
    const builds = await deploymentStatus(client.connection, namespace, config.deployment.deploymentName);
    process.stdout.write(formatDeploymentStatus(config.deployment.deploymentName, namespace, builds, config.deployment.buildId));
  } finally {
    await client.connection.close();
  }
}

if (require.main === module) runReport('deployment:status', main);
