/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The reviewer's page in a real browser (issue #11, part 3): Debian's Chromium driven by playwright-core
 * opens a review link for a session parked at review, sees the storyboard images load, requests a change,
 * sees revision 2 appear beside revision 1 without a reload, approves, and watches the session render and
 * complete. Expired, tampered and other-session links are refused on the page. Screenshots go to
 * test-artifacts/review-page/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { findOrInstallChromium } from '../../scripts/chromium';
import { PROJECT_ROOT } from '../../src/paths';
import { startApiHarness, TOKENS, waitForApiPhase, type ApiHarness } from '../harness/api';
import { eventually } from '../harness/wait';

const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts', 'review-page');
// Chromium on a machine with no route out: nothing in the background that would try to phone home.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let api: ApiHarness;
let browser: Browser;
beforeAll(async () => {
  const executablePath = findOrInstallChromium((line) => console.log(line));
  mkdirSync(ARTIFACTS, { recursive: true });
  [api, browser] = await Promise.all([
    startApiHarness({ env: { REVIEW_LINK_SECRET: 'the review link secret of the browser test', API_STREAM_INTERVAL: '100ms' } }),
    chromium.launch({ executablePath, args: CHROMIUM_ARGS }),
  ]);
}, 15 * 60_000);
afterAll(async () => {
  await browser?.close();
  await api?.close();
});

const parkedSession = async (prompt: string) => {
  const { status, body } = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt } });
  expect(status).toBe(201);
  await waitForApiPhase(api, body.id, 'reviewing');
  return body.id;
};
const reviewLink = async (id: string, body: Record<string, unknown> = {}) => {
  const { status, body: link } = await api.call<{ url: string }>('POST', `/v1/sessions/${id}/review-links`, { body });
  expect(status).toBe(201);
  return link.url;
};
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

/** Every image of a storyboard has loaded (decoded, with pixels), and how many there are. */
const loadedImages = (page: Page, revision: number) =>
  page.waitForFunction(
    (rev) => {
      const images = [...document.querySelectorAll<HTMLImageElement>(`article[data-revision="${rev}"] img`)];
      return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0) ? images.length : false;
    },
    revision,
    { timeout: 20_000 },
  );

test('a reviewer opens the link, sees the storyboard, asks for a change, sees revision 2 live, approves, and sees it complete', async () => {
  const id = await parkedSession('A 20 second teaser for our reading app [[sim think=1s revise=3000s generate=1000h]]');
  const url = await reviewLink(id, { name: 'Dana Reviewer' });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const failedRequests: string[] = [];
  page.on('requestfailed', (request) => failedRequests.push(request.url()));
  await page.goto(url);

  await page.waitForSelector('body[data-phase="reviewing"]');
  const firstImages = await (await loadedImages(page, 1)).jsonValue();
  // The credential left the address bar (it stays in this tab's storage).
  expect(new URL(page.url()).hash).toBe('');
  expect(await page.textContent('#prompt')).toBe('A 20 second teaser for our reading app [[sim think=1s revise=3000s generate=1000h]]');
  expect(await page.textContent('#deadline')).toMatch(/^Decide by .+ \(in 7 days\)\.$/);
  await shot(page, '1-review');

  // Marked, to prove that what follows arrives without a reload.
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  await page.getByLabel('What should change?').fill('Make the colours warmer, please.');
  await page.getByRole('button', { name: 'Request changes' }).click();
  await page.waitForSelector('article[data-revision="2"][data-current="true"]', { timeout: 30_000 });
  await page.waitForSelector('body[data-phase="reviewing"]');
  const secondImages = await (await loadedImages(page, 2)).jsonValue();
  await loadedImages(page, 1);
  expect(await page.$$eval('article.revision', (articles) => articles.map((a) => `${a.getAttribute('data-revision')}:${a.getAttribute('data-current')}`))).toEqual(['2:true', '1:false']);
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  await shot(page, '2-revision-2');

  await page.getByLabel('Note for the agent (optional)').fill('Lovely. Go ahead.');
  await page.getByRole('button', { name: 'Approve' }).click();
  // The render lasts until the page has shown it (finishPhase ends it then).
  await page.waitForSelector('body[data-phase="generating"]', { timeout: 20_000 });
  await shot(page, '3-generating');
  await api.sessions.sim.finishPhase((await waitForApiPhase(api, id, 'generating')).heygenSessionId as string);
  await page.waitForSelector('body[data-phase="completed"]', { timeout: 30_000 });
  await page.waitForSelector('#video:not([hidden]) img');
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  const decisions = await page.textContent('#actions');
  expect(decisions).toMatch(/Sent a message by link:Dana Reviewer/);
  expect(decisions).toMatch(/Approved by link:Dana Reviewer/);
  await shot(page, '4-completed');
  console.log(`images: revision 1 ${firstImages}, revision 2 ${secondImages}; live by ${await page.getAttribute('body', 'data-live')}; failed requests: ${failedRequests.length}`);
  expect(failedRequests).toEqual([]);

  // The session itself agrees: approved as the link, completed.
  const state = await waitForApiPhase(api, id, 'completed');
  expect((state.actions as { kind: string; by: string }[]).map((a) => `${a.kind}:${a.by}`)).toEqual(['message:link:Dana Reviewer', 'approve:link:Dana Reviewer']);
  await page.close();
});

test('with only a link: notices go once they stop being true, the video plays from our archived copy, and no way leads to a token form', async () => {
  const id = await parkedSession('Only a link [[sim think=1s revise=2000s generate=1000h]]');
  const page = await browser.newPage();
  await page.goto(await reviewLink(id, { name: 'Lee' }));
  await page.waitForSelector('body[data-phase="reviewing"]');
  const seen: Record<string, unknown> = {};
  // A link opens one session: the header offers no list that only a token could open.
  seen.brandIsLink = await page.$$eval('header .brand', (nodes) => nodes.some((node) => node.tagName === 'A'));

  await page.getByLabel('What should change?').fill('Brighter, please.');
  await page.getByRole('button', { name: 'Request changes' }).click();
  await page.waitForSelector('#notice:text("Sent to the agent.")');
  await page.waitForSelector('article[data-revision="2"][data-current="true"]', { timeout: 30_000 });
  await page.waitForSelector('body[data-phase="reviewing"]');
  seen.atRevision2 = await page.textContent('#notice');

  await page.getByRole('button', { name: 'Approve' }).click();
  await page.waitForSelector('#notice:text("Approval sent.")');
  await api.sessions.sim.finishPhase((await waitForApiPhase(api, id, 'generating')).heygenSessionId as string);
  await page.waitForSelector('body[data-phase="completed"]', { timeout: 30_000 });
  seen.atCompleted = await page.textContent('#notice');

  // The video: our archived copy (HeyGen's links expire), playable here.
  const completed = await waitForApiPhase(api, id, 'completed');
  const heygenUrl = (completed.video as { url: string }).url;
  const archivedSize = (completed.archive as { entries: { file: string; size: number }[] }).entries.find((entry) => entry.file === 'video')!.size;
  await page.getByRole('button', { name: 'Play the video' }).click();
  const player = await page.waitForSelector('#video video');
  const src = (await player.getAttribute('src')) ?? '';
  seen.videoSrc = src.slice(0, 5);
  // The player's bytes are the archived file's (the simulator's few-kB file need not decode in every Chromium).
  seen.playerBytesAreTheArchive = Number(await player.getAttribute('data-bytes')) === archivedSize;
  seen.linksToHeyGen = await page.$$eval('#video a', (links, url) => links.some((a) => a.getAttribute('href') === url), heygenUrl);
  await shot(page, '8-link-only-completed');
  console.log(`with only a link: ${JSON.stringify(seen)}`);
  expect(seen).toEqual({ brandIsLink: false, atRevision2: '', atCompleted: '', videoSrc: 'blob:', playerBytesAreTheArchive: true, linksToHeyGen: false });
  await page.close();
});

test('a wrong token on /review is answered in words, not with the API\'s', async () => {
  const page = await browser.newPage();
  await page.goto(`${api.url}/review`);
  await page.getByLabel('API token').fill('tok_wrong_0123456789abcdef');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('#notice[data-tone="bad"]');
  const shown = (await page.textContent('#notice')) ?? '';
  console.log(`a wrong token: "${shown}"`);
  expect(shown).not.toMatch(/bearer|Authorization/i);
  expect(shown).toMatch(/token was not accepted/);
  await page.close();
});

test('on a phone: everything fits the width, the decision is reachable, and every control is labelled', async () => {
  const id = await parkedSession('A phone-sized review [[sim think=1s]]');
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await context.newPage();
  await page.goto(await reviewLink(id));
  await page.waitForSelector('body[data-phase="reviewing"]');
  await loadedImages(page, 1);
  const layout = await page.evaluate(() => ({
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    unlabelled: [...document.querySelectorAll('textarea, input')].filter((field) => !(field as HTMLTextAreaElement).labels?.length).length,
    imagesWithoutAlt: [...document.querySelectorAll('img')].filter((img) => !img.alt).length,
    smallestButton: Math.min(...[...document.querySelectorAll('#decide button')].map((b) => b.getBoundingClientRect().height)),
  }));
  console.log(`phone layout: ${JSON.stringify(layout)}`);
  expect(layout).toEqual({ overflow: 0, unlabelled: 0, imagesWithoutAlt: 0, smallestButton: expect.any(Number) });
  expect(layout.smallestButton).toBeGreaterThanOrEqual(44);
  await shot(page, '5-phone');
  await context.close();
});

test('an expired link, a tampered one, and a link opened on another session are refused on the page', async () => {
  const id = await parkedSession('Refusals [[sim think=1s]]');
  const other = await parkedSession('Someone else [[sim think=1s]]');
  const expiring = await reviewLink(id, { expiresIn: '1s' });
  const good = await reviewLink(id);
  // Past its second once the API refuses it (whenever that is on this machine).
  const expiringToken = expiring.slice(expiring.indexOf('#t=') + 3);
  await eventually(async () => (await api.call('GET', `/v1/sessions/${id}`, { token: expiringToken })).status === 401, { what: 'the link to expire' });
  const tampered = good.replace(/#t=(rl1\.)([A-Za-z0-9_-])/, (_m, prefix: string, first: string) => `#t=${prefix}${first === 'e' ? 'f' : 'e'}`);
  const elsewhere = good.replace(`/review/${id}#`, `/review/${other}#`);
  const cases = { expired: [expiring, /expired/], tampered: [tampered, /not valid/], 'another session': [elsewhere, /another session/] } as const;
  const seen: Record<string, string> = {};
  for (const [what, [url, message]] of Object.entries(cases)) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForSelector('#sign-in:not([hidden])');
    seen[what] = (await page.textContent('#notice')) ?? '';
    expect(seen[what]).toMatch(message);
    expect(await page.isVisible('#session')).toBe(false);
    await shot(page, `6-refused-${what.replace(/ /g, '-')}`);
    await context.close();
  }
  console.log(`refused on the page: ${JSON.stringify(seen)}`);
  // The refused link decided nothing.
  expect((await waitForApiPhase(api, other, 'reviewing')).actions).toEqual([]);
});

test('when the event stream breaks, the page polls and still shows the next revision', async () => {
  const id = await parkedSession('No stream [[sim think=1s revise=2000s]]');
  const page = await browser.newPage();
  await page.route('**/events', (route) => route.abort('connectionreset'));
  await page.goto(await reviewLink(id));
  await page.waitForSelector('body[data-phase="reviewing"][data-live="polling"]');
  await page.getByLabel('What should change?').fill('Shorter.');
  await page.getByRole('button', { name: 'Request changes' }).click();
  await page.waitForSelector('article[data-revision="2"][data-current="true"]', { timeout: 30_000 });
  expect(await page.getAttribute('body', 'data-live')).toBe('polling');
  await page.close();
});

test('/review with a token that has sessions:review: sign in, see what waits for this tenant, open it', async () => {
  const id = await parkedSession('Listed for acme [[sim think=1s]]');
  const hidden = (await api.call<{ id: string }>('POST', '/v1/sessions', { token: 'globex', body: { prompt: 'Not for acme [[sim think=1s]]' } })).body.id;
  await waitForApiPhase(api, hidden, 'reviewing', 'globex');
  const page = await browser.newPage();
  await page.goto(`${api.url}/review`);
  await page.getByLabel('API token').fill(TOKENS.acme.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const entry = page.getByRole('link', { name: 'Listed for acme' });
  await entry.waitFor();
  expect(await page.$$eval('#sessions-list a', (links) => links.map((a) => a.getAttribute('href')))).not.toContain(`/review/${hidden}`);
  await shot(page, '7-list');
  await entry.click();
  await page.waitForSelector('body[data-phase="reviewing"]');
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.waitForSelector('body[data-phase="generating"], body[data-phase="finalizing"], body[data-phase="completed"]');
  const state = await waitForApiPhase(api, id, ['generating', 'finalizing', 'completed']);
  expect((state.actions as { kind: string; by: string }[]).map((a) => `${a.kind}:${a.by}`)).toEqual(['approve:acme-tool']);
  await page.close();
});

test('a question from the agent: the page asks for an answer, and the answer moves the session on', async () => {
  const { body } = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Ask me first [[sim think=1s ask=1]]' } });
  await waitForApiPhase(api, body.id, 'waiting_for_input');
  const page = await browser.newPage();
  await page.goto(await reviewLink(body.id));
  await page.waitForSelector('body[data-phase="waiting_for_input"]');
  expect(await page.textContent('#phase-text')).toBe('The agent has a question for you.');
  await page.getByLabel('Your answer').fill('Aim it at students.');
  await page.getByRole('button', { name: 'Send answer' }).click();
  await page.waitForSelector('body[data-phase="reviewing"]', { timeout: 30_000 });
  await loadedImages(page, 1);
  const [heygen] = await api.sessions.heygenSessions(body.id);
  expect(heygen!.messages.map((m) => m.message)).toEqual(['Aim it at students.']);
  await page.close();
});
