/**
 * `npm run build:workflows [-- <out>]`: bundles the workflow code once (default dist/workflow-bundle.js)
 * so production workers start without bundling: set TEMPORAL_WORKFLOW_BUNDLE to the file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows') });
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, code);
  process.stdout.write(`workflow bundle written to ${out} (${Math.round(code.length / 1024)} KiB)\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
