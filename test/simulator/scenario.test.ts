import { parseDuration } from '../../src/contract/duration';
import { DEFAULT_SCENARIO, parseScenario, readsAsApproval, ScenarioError } from '../../src/simulator/scenario';

test('a prompt without a directive runs the default scenario', () => {
  expect(parseScenario('Make a product video')).toEqual({ scenario: DEFAULT_SCENARIO, prompt: 'Make a product video' });
});

test('every key is read and the directive is removed from the prompt', () => {
  const { scenario, prompt } = parseScenario(
    'Make a video [[sim think=30s revise=5s ask=2 review=skip generate=5m video_delay=500ms duration=45 scenes=6 video_size=8mb fail=video stuck=generating proceed=text unknown_status=queued]] please',
  );
  expect(prompt).toBe('Make a video please');
  expect(scenario).toEqual({
    thinkMs: 30_000,
    reviseMs: 5_000,
    asks: 2,
    review: 'skip',
    generateMs: 300_000,
    videoDelayMs: 500,
    durationSeconds: 45,
    scenes: 6,
    videoBytes: 8 * 1024 * 1024,
    fail: 'video',
    stuck: 'generating',
    proceed: 'text',
    unknownStatus: 'queued',
  });
});

test('revise follows think unless set; later directives win', () => {
  expect(parseScenario('[[sim think=8s]]').scenario.reviseMs).toBe(8_000);
  expect(parseScenario('[[sim ask=1]] x [[sim ask=3]]').scenario.asks).toBe(3);
  expect(parseScenario('[[sim]] plain').prompt).toBe('plain');
});

test.each([
  ['[[sim thnk=3s]]', /unknown simulator directive key "thnk"/],
  ['[[sim think=soon]]', /think=soon: expected a duration/],
  ['[[sim fail=everything]]', /fail=everything: expected one of thinking, generating, video, silent/],
  ['[[sim ask=-1]]', /ask=-1: expected a whole number from 0 to 20/],
  ['[[sim review]]', /expected key=value/],
  ['[[sim video_size=8]]', /video_size=8: expected a size with a unit/],
  ['[[sim video_size=2gb]]', /up to 1gb/],
  ['[[sim video_size=0kb]]', /video_size=0kb: expected a size/],
])('%s is an error, not a silent default', (prompt, message) => {
  expect(() => parseScenario(prompt)).toThrow(ScenarioError);
  expect(() => parseScenario(prompt)).toThrow(message);
});

test('video sizes take a unit', () => {
  expect(parseScenario('[[sim video_size=512b]]').scenario.videoBytes).toBe(512);
  expect(parseScenario('[[sim video_size=300KB]]').scenario.videoBytes).toBe(300 * 1024);
  expect(parseScenario('[[sim video_size=1gb]]').scenario.videoBytes).toBe(1024 ** 3);
  expect(parseScenario('no directive').scenario.videoBytes).toBeUndefined();
});

test('durations', () => {
  expect(parseDuration('250ms')).toBe(250);
  expect(parseDuration('1.5s')).toBe(1_500);
  expect(parseDuration('2m')).toBe(120_000);
  expect(parseDuration('1h')).toBe(3_600_000);
  expect(parseDuration('7')).toBeUndefined();
  expect(parseDuration('7d')).toBe(604_800_000);
  expect(parseDuration('7w')).toBeUndefined();
});

test('approval by text (proceed=text) reads intent, not keywords alone', () => {
  expect(readsAsApproval('Looks perfect, go ahead and generate the video.')).toBe(true);
  expect(readsAsApproval('Approved.')).toBe(true);
  expect(readsAsApproval('Looks great, but add a scene about our code review process before the checklist scene.')).toBe(false);
  expect(readsAsApproval('Make the intro shorter')).toBe(false);
});
