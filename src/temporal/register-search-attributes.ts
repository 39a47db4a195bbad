/**
 * The first step of `npm run temporal:setup` (setup.ts): prepares a Temporal server (a self-hosted
 * cluster, the docker-compose stack) for the service. Creates the namespace when it does not exist, registers the workflow's search
 * attributes (adds the missing ones, checks the types of those already there), and retries until the
 * server answers. Safe to run at every deployment.
 *
 * Temporal Cloud does not allow either through the API: create them with `tcld` (see the README); an
 * existing namespace is left as it is.
 */
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import type { TemporalConfig as Config } from '../config/temporal';
import { StartupError } from '../lifecycle';
import type { Logger } from '../logging';
import { SEARCH_ATTRIBUTES } from '../contract/search-attributes';
import { connectionOptions } from './connection';

/** How long a closed session's history stays readable on a namespace this setup creates. */
export const NAMESPACE_RETENTION_DAYS = 7;
const GRPC_NOT_FOUND = 5;

/** Creates the namespace if the server does not know it; true when it was created. */
async function ensureNamespace(connection: Connection, namespace: string): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return false;
  } catch (error) {
    if (!isGrpcServiceError(error) || error.code !== GRPC_NOT_FOUND) throw error;
  }
  await connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs(`${NAMESPACE_RETENTION_DAYS}d`),
    description: 'video-agent-orchestrator',
  });
  return true;
}

export async function registerSearchAttributes(config: Config, logger: Logger, options: { waitMs?: number } = {}): Promise<string[]> {
  const deadline = Date.now() + (options.waitMs ?? 120_000);
  for (;;) {
    const connection = Connection.lazy({ ...connectionOptions(config), connectTimeout: 5_000 });
    try {
      await connection.ensureConnected();
      const namespace = config.temporal.namespace;
      if (await ensureNamespace(connection, namespace)) logger.info({ namespace, retentionDays: NAMESPACE_RETENTION_DAYS }, 'namespace created');
      // A namespace just created reaches every frontend's cache within seconds: until then, the retries below.
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const existing = customAttributes ?? {};
      const missing: Record<string, number> = {};
      for (const key of SEARCH_ATTRIBUTES) {
        const wanted = encodeSearchAttributeIndexedValueType(key.type)!;
        const have = existing[key.name];
        if (have === undefined) missing[key.name] = wanted;
        else if (have !== wanted) {
          throw new StartupError(`Search attribute ${key.name} exists on namespace ${namespace} with another type; it must be ${key.type}.`);
        }
      }
      if (Object.keys(missing).length > 0) {
        await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
      }
      logger.info({ namespace, added: Object.keys(missing), present: SEARCH_ATTRIBUTES.map((k) => k.name) }, 'search attributes registered');
      return Object.keys(missing);
    } catch (error) {
      if (error instanceof StartupError || Date.now() > deadline) throw error;
      logger.info({ err: (error as Error).message }, 'Temporal not ready yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } finally {
      await connection.close();
    }
  }
}

