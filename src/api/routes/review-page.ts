/**
 * The reviewer's pages: `/review` (sessions waiting for a reviewer) and `/review/:id` (one session, live).
 * Static files, read once at start; they hold no data and need no credential to load. The page's script
 * calls the API with the reviewer's review link or token, so every read and decision goes through the
 * same routes, checks and records as any other caller's.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { PROJECT_ROOT } from '../../paths';

// Beside this module when run from source (and in the image, which copies the folder into dist/);
// from the sources for a local `npm run build`.
const PAGE_DIR = [path.join(__dirname, '..', 'review-page'), path.join(PROJECT_ROOT, 'src', 'api', 'review-page')].find((dir) => existsSync(dir))!;

const read = (file: string) => readFileSync(path.join(PAGE_DIR, file));

/**
 * Scripts and styles from this origin only; images from anywhere (storyboards live on HeyGen's storage);
 * the archived video and thumbnail as blobs the page read with its credential;
 * no framing, and no Referer, so nothing of the page's address leaves it.
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data: blob:; media-src blob:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

export const reviewPageRoutes: FastifyPluginAsync = async (app) => {
  const files = {
    list: read('list.html'),
    session: read('session.html'),
    script: read('review.js'),
    style: read('review.css'),
  };
  const send = (reply: FastifyReply, type: string, body: Buffer, cache: string) => reply.headers(PAGE_HEADERS).header('cache-control', cache).type(type).send(body);
  const html = (body: Buffer) => (_request: unknown, reply: FastifyReply) => send(reply, 'text/html; charset=utf-8', body, 'no-store');

  const hide = { schema: { hide: true } };
  app.get('/review', hide, html(files.list));
  app.get('/review/', hide, html(files.list));
  app.get('/review/:id', hide, html(files.session));
  app.get('/review/assets/review.js', hide, (_request, reply) => send(reply, 'text/javascript; charset=utf-8', files.script, 'no-cache'));
  app.get('/review/assets/review.css', hide, (_request, reply) => send(reply, 'text/css; charset=utf-8', files.style, 'no-cache'));
  // Browsers ask for it on every page: no icon, and no log line at info each time.
  app.get('/favicon.ico', { ...hide, logLevel: 'warn' }, (_request, reply) => reply.code(204).header('cache-control', 'max-age=86400').send());
};
