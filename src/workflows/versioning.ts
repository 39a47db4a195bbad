/**
 * Each workflow's Worker Versioning behavior, declared beside it. Temporal refuses a behavior from a worker
 * that is not versioned (WORKER_VERSIONING=false), so it is declared only when the task runs on a
 * Worker Deployment Version.
 */
import * as wf from '@temporalio/workflow';
import type { VersioningBehavior, WorkflowDefinitionOptions } from '@temporalio/common';

export function whenVersioned(versioningBehavior: VersioningBehavior): () => WorkflowDefinitionOptions {
  return () => (wf.workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior } : {});
}
