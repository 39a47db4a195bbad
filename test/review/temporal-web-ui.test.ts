/// <reference lib="dom" />
/**
 * What an operator sees in the Temporal Web UI (issue 22): a session HeyGen's webhook finished opens as
 * completed, with no activity pending (before, the follow the webhook cut short stayed "CANCEL
 * REQUESTED" on the closed run for good). The same Chromium as the review page's test, against a dev
 * server of this file's own that serves the Web UI. Screenshots go to test-artifacts/temporal-web-ui/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { findOrInstallChromium } from '../../scripts/chromium';
import { PROJECT_ROOT } from '../../src/paths';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { startApiHarness, waitForApiPhase, type ApiHarness } from '../harness/api';

const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts', 'temporal-web-ui');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let server: DevServer;
let api: ApiHarness;
let browser: Browser;
beforeAll(async () => {
  const executablePath = findOrInstallChromium((line) => console.log(line));
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startDevServer({ cliPath: process.env.TEMPORAL_CLI_PATH!, ui: true });
  [api, browser] = await Promise.all([
    // The follow's first read is a minute away: only HeyGen's webhook can finish the session soon.
    startApiHarness({ webhooks: true, sessions: { address: server.address }, env: { SESSION_TIMING: JSON.stringify({ pollInitial: '60s', pollMax: '60s', videoPollInterval: 20 }) } }),
    chromium.launch({ executablePath, args: CHROMIUM_ARGS }),
  ]);
}, 15 * 60_000);
afterAll(async () => {
  await browser?.close();
  await api?.close();
  await server?.stop();
});

test("a session HeyGen's webhook finished shows in the Web UI as completed, with no pending activity", async () => {
  const { body } = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Finished by its webhook [[sim review=skip think=1500s generate=1ms]]' } });
  await waitForApiPhase(api, body.id, 'completed', 'acme', 30_000);
  await api.sessions.client.workflow.getHandle(body.id).result();
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${server.uiUrl}/namespaces/default/workflows/${body.id}`);
  await page.getByText(/^completed$/i).first().waitFor({ timeout: 30_000 });
  // The tab bar's "Pending Activities" with its count, as the operator reads it.
  const tab = page.getByRole('tab', { name: /Pending Activities/ }).or(page.getByRole('link', { name: /Pending Activities/ })).first();
  await tab.waitFor({ timeout: 30_000 });
  const tabText = (await tab.innerText()).replace(/\s+/g, ' ').trim();
  await tab.click();
  await page.waitForURL(/pending-activities/, { timeout: 30_000 });
  await page.getByText('Pending Activities', { exact: false }).first().waitFor();
  const main = await page.evaluate(() => document.querySelector('main')?.innerText ?? document.body.innerText);
  await page.screenshot({ path: path.join(ARTIFACTS, 'completed-session-pending-activities.png'), fullPage: true });
  const shown = ['followHeyGenSession', 'Cancel Requested', 'CANCEL_REQUESTED', 'remaining'].filter((word) => main.toLowerCase().includes(word.toLowerCase()));
  console.log(`Web UI tab: "${tabText}"; pending-activity words shown: ${shown.length ? shown.join(', ') : 'none'}`);
  expect(tabText).toBe('Pending Activities 0');
  expect(shown).toEqual([]);
  await page.close();
});
