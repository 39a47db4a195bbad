/**
 * `npm run sessions:legacy`: how many open sessions still need each old shape of the session workflow
 * (src/contract/workflow-shapes.ts), and so whether this checkout's build may drop it (README, "Retiring
 * an old shape"). Visibility lists the open sessions and the build each is pinned to; each one's history
 * says which shapes it took. A session pinned to another build runs that build's code, so it needs nothing
 * of this one; unversioned and auto-upgrading sessions, and those pinned to this build, run this code.
 *
 * `--json` prints the same as one JSON object.
 */
import { parseArgs } from 'node:util';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { loadDeploymentToolConfig, versionString, type WorkerDeployment } from '../config/worker-deployment';
import { WORKFLOW_SHAPES, type WorkflowShapeName } from '../contract/workflow-shapes';
import { runReport } from '../lifecycle';
import { connectClient } from './connection';
import { shapesInHistory, type ShapeInHistory } from './shapes-in-history';
import { keywordAttribute } from './worker-deployment';

/** Histories read at once: enough to be quick, few enough not to load the server. */
const HISTORY_READS_AT_ONCE = 8;

const OPEN_SESSIONS = "WorkflowType = 'videoAgentSession' AND ExecutionStatus = 'Running'";

export interface OpenSession {
  workflowId: string;
  /** `deployment:build` the session is pinned to; null when unversioned or auto-upgrading. */
  pinnedTo: string | null;
  shapes: Record<WorkflowShapeName, ShapeInHistory>;
}

export type ShapeCounts = Record<ShapeInHistory, number>;

export interface ShapeReport {
  patchId: string;
  since: string;
  fixtures: string;
  /** Every open session. */
  all: ShapeCounts;
  /** The open sessions this build's code runs. */
  thisBuild: ShapeCounts;
  next: string;
}

export interface LegacyReport {
  build: string;
  openSessions: number;
  /** Open sessions by the build they are pinned to (`unversioned` for the rest). */
  byBuild: Record<string, number>;
  /** Open sessions this build's code runs. */
  runByThisBuild: number;
  shapes: Record<WorkflowShapeName, ShapeReport>;
}

export async function readOpenSessions(client: Client): Promise<OpenSession[]> {
  const listed: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query: OPEN_SESSIONS })) listed.push(info);
  const sessions: OpenSession[] = [];
  for (let start = 0; start < listed.length; start += HISTORY_READS_AT_ONCE) {
    const batch = listed.slice(start, start + HISTORY_READS_AT_ONCE);
    sessions.push(
      ...(await Promise.all(
        batch.map(async (info): Promise<OpenSession> => {
          const history = await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
          return { workflowId: info.workflowId, pinnedTo: pinnedVersion(info), shapes: shapesInHistory(history.events ?? []) };
        }),
      )),
    );
  }
  return sessions;
}

/** The version a session is pinned to, from its system search attributes. */
function pinnedVersion(info: WorkflowExecutionInfo): string | null {
  return keywordAttribute(info.raw, 'TemporalWorkflowVersioningBehavior') === 'Pinned' ? keywordAttribute(info.raw, 'TemporalWorkerDeploymentVersion') : null;
}

export function legacyReport(sessions: OpenSession[], deployment: Pick<WorkerDeployment, 'deploymentName' | 'buildId' | 'versioning'>): LegacyReport {
  const build = versionString(deployment);
  // Without versioning this build's workers take every session's tasks.
  const runByThisBuild = sessions.filter((s) => !deployment.versioning || s.pinnedTo === null || s.pinnedTo === build);
  const byBuild: Record<string, number> = {};
  for (const session of sessions) byBuild[session.pinnedTo ?? 'unversioned'] = (byBuild[session.pinnedTo ?? 'unversioned'] ?? 0) + 1;
  const shapes = {} as Record<WorkflowShapeName, ShapeReport>;
  for (const name of Object.keys(WORKFLOW_SHAPES) as WorkflowShapeName[]) {
    const shape = WORKFLOW_SHAPES[name];
    const thisBuild = countShapes(runByThisBuild, name);
    shapes[name] = { patchId: shape.patchId, since: shape.since, fixtures: shape.fixtures, all: countShapes(sessions, name), thisBuild, next: nextStep(thisBuild) };
  }
  return { build, openSessions: sessions.length, byBuild, runByThisBuild: runByThisBuild.length, shapes };
}

function countShapes(sessions: OpenSession[], name: WorkflowShapeName): ShapeCounts {
  const counts: ShapeCounts = { 'old-shape': 0, marker: 0, 'not-yet': 0 };
  for (const session of sessions) counts[session.shapes[name]]++;
  return counts;
}

/** The README's retirement rule, applied to the sessions this build runs. */
function nextStep(counts: ShapeCounts): string {
  if (counts['old-shape'] > 0) return `keep the patch and the old shape: ${counts['old-shape']} open session(s) this build runs took it`;
  if (counts.marker > 0) return `the old shape may go: replace patched() with deprecatePatch(); ${counts.marker} open session(s) carry the marker`;
  return 'the patch may go: remove its call, the old shape and its replay fixtures';
}

export function formatLegacyReport(report: LegacyReport): string {
  const builds = Object.entries(report.byBuild)
    .map(([build, count]) => `${build}: ${count}`)
    .join(', ');
  const lines = [
    `Open sessions: ${report.openSessions}${builds ? ` (${builds})` : ''}; this build (${report.build}) runs ${report.runByThisBuild} of them.`,
    '',
  ];
  for (const shape of Object.values(report.shapes)) {
    const { all, thisBuild } = shape;
    lines.push(
      `${shape.patchId} (since ${shape.since})`,
      `  all open sessions:  old shape ${all['old-shape']}, marker ${all.marker}, not there yet ${all['not-yet']}`,
      `  this build runs:    old shape ${thisBuild['old-shape']}, marker ${thisBuild.marker}, not there yet ${thisBuild['not-yet']}`,
      `  next: ${shape.next}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
  const config = loadDeploymentToolConfig();
  const client = await connectClient(config);
  try {
    const report = legacyReport(await readOpenSessions(client), config.deployment);
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatLegacyReport(report));
  } finally {
    await client.connection.close();
  }
}

if (require.main === module) runReport('sessions:legacy', main);
