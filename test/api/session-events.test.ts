/**
 * The live stream's events between two reads of a session's state: phases that came and went between
 * reads still come once each, in order; nothing is repeated when nothing changed.
 */
import type { SessionState } from '../../src/contract/session';
import { changesBetween } from '../../src/api/session-events';

const base = {
  id: 'session-x',
  phase: 'thinking',
  phaseSince: 't1',
  progress: null,
  messages: [],
  review: null,
  video: null,
  queue: null,
  error: null,
  phaseHistory: [
    { seq: 1, phase: 'creating', at: 't0' },
    { seq: 2, phase: 'thinking', at: 't1' },
  ],
} as unknown as SessionState;

const later = (changes: Partial<SessionState>) => ({ ...base, ...changes }) as SessionState;

test('the first read is a snapshot; a read with no change gives nothing', () => {
  expect(changesBetween(undefined, base).map((e) => e.event)).toEqual(['snapshot']);
  expect(changesBetween(base, later({}))).toEqual([]);
});

test('phases passed between two reads each come once, in order', () => {
  const after = later({
    phase: 'completed',
    phaseSince: 't4',
    video: { videoId: 'v' } as SessionState['video'],
    phaseHistory: [
      ...base.phaseHistory,
      { seq: 3, phase: 'generating', at: 't2' },
      { seq: 4, phase: 'finalizing', at: 't3' },
      { seq: 5, phase: 'completed', at: 't4' },
    ],
  });
  expect(changesBetween(base, after).map((e) => (e.event === 'phase' ? `phase:${e.data.phase}` : e.event))).toEqual([
    'video',
    'phase:generating',
    'phase:finalizing',
    'phase:completed',
    'end',
  ]);
});

test('a state from before the phase history existed still reports a phase change', () => {
  const old = later({ phaseHistory: [] });
  expect(changesBetween(old, later({ phase: 'reviewing', phaseSince: 't2', phaseHistory: [] })).map((e) => e.event)).toEqual(['phase']);
});
