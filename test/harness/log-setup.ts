/**
 * Runs before each test file (jest's setupFilesAfterEnv): starts the file's log in .test-logs/ and marks
 * where each test begins in it, so log-reporter.cjs can print a failed test's part (see test-log.ts).
 */
import { appendTestLog, startTestLog, TEST_START_MARK } from './test-log';

startTestLog(expect.getState().testPath!);

beforeEach(() => {
  appendTestLog(`${TEST_START_MARK}${expect.getState().currentTestName} (${new Date().toISOString()})`);
});
