/**
 * Registers the workflow's search attributes on a Temporal server (a self-hosted cluster, the
 * docker-compose stack): adds the missing ones, checks the types of those already there, and retries
 * until the server answers. Safe to run at every deployment.
 *
 * Temporal Cloud does not allow this through the API: create them with `tcld` (see the README).
 */
import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { loadTemporalConfig, type TemporalConfig as Config } from '../config/temporal';
import { runMain, StartupError } from '../lifecycle';
import type { Logger } from '../logging';
import { SEARCH_ATTRIBUTES } from '../contract/search-attributes';
import { connectionOptions } from './connection';

export async function registerSearchAttributes(config: Config, logger: Logger, options: { waitMs?: number } = {}): Promise<string[]> {
  const deadline = Date.now() + (options.waitMs ?? 120_000);
  for (;;) {
    const connection = Connection.lazy({ ...connectionOptions(config), connectTimeout: 5_000 });
    try {
      await connection.ensureConnected();
      const namespace = config.temporal.namespace;
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

if (require.main === module) {
  runMain('register-search-attributes', loadTemporalConfig, async ({ config, logger, lifecycle }) => {
    await registerSearchAttributes(config, logger);
    await lifecycle.shutdown('done');
  });
}
