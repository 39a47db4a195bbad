/**
 * The source tree's layering: src/contract at the bottom imports nothing of ours; nothing imports
 * upwards; each process's entry point reads only its own configuration; the API, activities, CLI and
 * simulator never load workflow code (workflows may take activity *types*, as Temporal intends).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const SRC = path.join(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** Our imports (relative specifiers), as paths under src without extension. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const found: Import[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s+(type\s+)?[^'";]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
    const target = path.relative(SRC, path.resolve(path.dirname(file), match[2]!)).replace(/\/index$/, '');
    found.push({ from: path.relative(SRC, file).replace(/\.ts$/, '').replace(/\/index$/, ''), to: target, typeOnly: Boolean(match[1]) });
  }
  return found;
}

const imports = sourceFiles(SRC).flatMap(importsOf);
const area = (module: string) => (module.includes('/') ? module.split('/')[0]! : module);

/** Which areas each area may import (besides itself and the leaf helpers at src/*.ts). */
const ALLOWED: Record<string, string[]> = {
  contract: [],
  config: ['contract'],
  heygen: ['contract'],
  archive: ['contract'],
  workflows: ['contract'],
  activities: ['contract', 'heygen', 'archive'],
  temporal: ['contract', 'config'],
  simulator: ['contract', 'config'],
  cli: ['contract'],
  api: ['contract', 'config', 'temporal', 'archive'],
};
const LEAVES = ['errors', 'canonical-json', 'logging', 'paths', 'lifecycle', 'net-addresses', 'review-links'];

test('src/contract imports nothing of ours but itself', () => {
  const outside = imports.filter((i) => area(i.from) === 'contract' && area(i.to) !== 'contract');
  expect(outside).toEqual([]);
});

test.each(Object.entries(ALLOWED))('%s imports only %j, itself and the leaf helpers', (from, allowed) => {
  const wrong = imports.filter((i) => {
    if (area(i.from) !== from) return false;
    const to = area(i.to);
    if (to === from || allowed.includes(to) || LEAVES.includes(i.to)) return false;
    // Workflows name their activities' types (proxyActivities<...>), never their code.
    return !(from === 'workflows' && to === 'activities' && i.typeOnly);
  });
  expect(wrong).toEqual([]);
});

test('the leaf helpers import only contract, config and each other', () => {
  const wrong = imports.filter((i) => LEAVES.includes(i.from) && !LEAVES.includes(i.to) && !['contract', 'config'].includes(area(i.to)));
  expect(wrong).toEqual([]);
});

test("only npm start's entry point reads the whole service's configuration", () => {
  expect(imports.filter((i) => i.to === 'service-config').map((i) => i.from)).toEqual(['main']);
});

test('workflow code never loads zod: every module it imports is evaluated again for each cached workflow', () => {
  // Runtime (not type-only) imports reachable from the workflows' entry point.
  const reached = new Set<string>();
  const visit = (module: string) => {
    if (reached.has(module)) return;
    reached.add(module);
    for (const i of imports) if (i.from === module && !i.typeOnly) visit(i.to);
  };
  visit('workflows');
  for (const file of sourceFiles(path.join(SRC, 'workflows'))) visit(path.relative(SRC, file).replace(/\.ts$/, '').replace(/\/index$/, ''));
  // A module is a file, or a folder's index.
  const fileOf = (module: string) => path.join(SRC, existsSync(path.join(SRC, `${module}.ts`)) ? `${module}.ts` : `${module}/index.ts`);
  const withZod = [...reached].filter((module) => /from 'zod'/.test(readFileSync(fileOf(module), 'utf8')));
  expect({ reached: reached.size > 5, withZod }).toEqual({ reached: true, withZod: [] });
});
