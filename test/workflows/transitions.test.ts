/**
 * The phase transition table (src/workflows/session/transitions.ts), walked: every phase is in it and
 * reachable, every phase a session works in can still end every way, the final phases lead nowhere,
 * every phase change in every recorded history is one the table allows, and docs/session-workflow.md
 * shows the table as it is.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FINAL_PHASES, PHASES, type Phase } from '../../src/contract/session';
import { isAllowedTransition, PHASE_TRANSITIONS } from '../../src/workflows/session/transitions';

const successors = (phase: Phase): readonly Phase[] => PHASE_TRANSITIONS[phase];

function reachableFrom(start: Phase): Set<Phase> {
  const seen = new Set<Phase>([start]);
  const todo = [start];
  for (let phase = todo.pop(); phase; phase = todo.pop()) {
    for (const next of successors(phase)) {
      if (seen.has(next)) continue;
      seen.add(next);
      todo.push(next);
    }
  }
  return seen;
}

test('every phase has its row, and every phase is reachable from the first', () => {
  expect(Object.keys(PHASE_TRANSITIONS).sort()).toEqual([...PHASES].sort());
  expect([...reachableFrom('creating')].sort()).toEqual([...PHASES].sort());
});

test('a phase a session works in can fail, be stopped and still complete; final phases lead nowhere', () => {
  const working = PHASES.filter((phase) => !FINAL_PHASES.includes(phase));
  for (const phase of working) {
    expect([phase, isAllowedTransition(phase, 'failed'), isAllowedTransition(phase, 'stopped'), reachableFrom(phase).has('completed')]).toEqual([phase, true, true, true]);
  }
  for (const phase of FINAL_PHASES.filter((p) => p !== 'archive_failed')) expect([phase, successors(phase)]).toEqual([phase, []]);
  // The workflow waits in archive_failed for retryArchive: it archives again, or is stopped.
  expect(successors('archive_failed')).toEqual(['archiving', 'stopped']);
  expect(isAllowedTransition('completed', 'failed')).toBe(false);
  expect(isAllowedTransition('reviewing', 'finalizing')).toBe(false);
});

const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');

/** The phases a recorded session went through, from its VideoAgentStatus upserts. */
function phasesOf(file: string): Phase[] {
  const history = JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')) as { events: Record<string, { searchAttributes?: { indexedFields?: Record<string, { data: string }> } }>[] };
  const phases: Phase[] = [];
  for (const event of history.events) {
    const field = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.VideoAgentStatus;
    if (field) phases.push(JSON.parse(Buffer.from(field.data, 'base64').toString()) as Phase);
  }
  return phases;
}

test('every phase change in every recorded session history is in the table', () => {
  const files = readdirSync(HISTORIES, { recursive: true }).map(String).filter((file) => /(^|\/)session-[^/]*\.json$/.test(file));
  expect(files.length).toBeGreaterThanOrEqual(30);
  const taken = new Set<string>();
  const wrong: string[] = [];
  for (const file of files) {
    const phases = phasesOf(file);
    expect([file, phases.length > 1]).toEqual([file, true]);
    for (let i = 1; i < phases.length; i++) {
      const [from, to] = [phases[i - 1]!, phases[i]!];
      taken.add(`${from}→${to}`);
      if (!isAllowedTransition(from, to)) wrong.push(`${file}: ${from}→${to}`);
    }
  }
  console.log(`${files.length} histories took ${taken.size} of the table's ${Object.values(PHASE_TRANSITIONS).flat().length} transitions: ${[...taken].sort().join(' ')}`);
  expect(wrong).toEqual([]);
});

test('docs/session-workflow.md shows the table as the code declares it', () => {
  const whole = readFileSync(path.join(__dirname, '..', '..', 'docs', 'session-workflow.md'), 'utf8');
  const start = whole.indexOf('## Phase transitions');
  expect(start).toBeGreaterThan(0);
  const doc = whole.slice(start, whole.indexOf('\n## ', start + 1));
  const rows = new Map<string, string[]>();
  for (const match of doc.matchAll(/^\| `([a-z_]+)` \| ([^|]*) \|/gm)) {
    rows.set(match[1]!, [...match[2]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!));
  }
  const declared = Object.fromEntries(PHASES.map((phase) => [phase, [...successors(phase)]]));
  expect(Object.fromEntries(PHASES.map((phase) => [phase, rows.get(phase) ?? 'missing']))).toEqual(declared);
});
