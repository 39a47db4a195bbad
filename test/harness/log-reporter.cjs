/**
 * A jest reporter, after jest's own: for each failed test, its part of its file's log (from the test's
 * start mark, written by log-setup.ts, to the next test's), at most the last 200 lines, with the path of
 * the whole log. A file that failed outside its tests (a beforeAll, an import, an afterAll) shows the
 * end of its log. Logs are in .test-logs/, one per test file (test-log.ts).
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const LOG_DIR = path.join(ROOT, '.test-logs');
const MARK = /^=== test: (.*) \(\d{4}-\d\d-\d\dT[^)]*\)$/;
const MAX_LINES = 200;
const MAX_WIDTH = 500;

const clip = (line) => (line.length > MAX_WIDTH ? `${line.slice(0, MAX_WIDTH)}… (${line.length} chars)` : line);

/** The log's lines by the test they were written in ('' before the first test). */
function sectionsOf(lines) {
  const sections = new Map([['', []]]);
  let current = sections.get('');
  for (const line of lines) {
    const mark = MARK.exec(line);
    if (mark) sections.set(mark[1], (current = [line]));
    else current.push(line);
  }
  return sections;
}

function excerpt(title, lines, logPath) {
  const shown = lines.slice(-MAX_LINES);
  const cut = lines.length > shown.length ? `last ${shown.length} of ${lines.length} lines` : `${lines.length} lines`;
  return [`\n── log: ${title} (${cut}; the whole log: ${logPath}) ──`, ...shown.map(clip), `── end of log: ${title} ──\n`].join('\n');
}

class LogReporter {
  onTestResult(_test, result) {
    const failed = result.testResults.filter((t) => t.status === 'failed');
    if (failed.length === 0 && !result.testExecError && !result.failureMessage) return;
    const logPath = path.relative(process.cwd(), path.join(LOG_DIR, `${path.relative(ROOT, result.testFilePath)}.log`));
    let lines;
    try {
      lines = fs.readFileSync(logPath, 'utf8').replace(/\n$/, '').split('\n');
    } catch {
      process.stderr.write(`\n(no test log at ${logPath})\n`);
      return;
    }
    const sections = sectionsOf(lines);
    const parts = [];
    let outsideTests = Boolean(result.testExecError) || failed.length === 0;
    for (const test of failed) {
      const section = sections.get(test.fullName);
      if (section) parts.push(excerpt(test.fullName, section, logPath));
      else outsideTests = true;
    }
    // Failed before a test started (beforeAll, import) or after (afterAll): the end of the log tells.
    if (outsideTests) parts.push(excerpt(`${path.relative(ROOT, result.testFilePath)}, outside its tests`, lines, logPath));
    process.stderr.write(`${parts.join('\n')}\n`);
  }

  onRunComplete() {
    process.stderr.write(`Test logs: ${path.relative(process.cwd(), LOG_DIR) || '.'}/ (one per test file; a failed test's part is shown above)\n`);
  }
}

module.exports = LogReporter;
