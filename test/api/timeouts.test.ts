/**
 * Slow clients (issue 22, defect 7): a request whose headers or body trickle in is cut off at
 * API_REQUEST_TIMEOUT (headers at API_HEADERS_TIMEOUT), with a token or without; live event streams,
 * long-lived GETs whose request is complete at once, are not; connections beyond API_MAX_CONNECTIONS are
 * refused. Real sockets against the real API.
 */
import { connect, type Socket } from 'node:net';
import { startApiHarness, TOKENS, waitForApiPhase, type ApiHarness } from '../harness/api';
import { eventually } from '../harness/wait';

let api: ApiHarness;
const REQUEST_TIMEOUT_MS = 2_000;
beforeAll(async () => {
  api = await startApiHarness({ env: { API_REQUEST_TIMEOUT: '2s', API_HEADERS_TIMEOUT: '1s', API_MAX_CONNECTIONS: '40' } });
});
afterAll(async () => {
  await api?.close();
});

/** A raw connection to the API: what it was sent back, and when the server closed it. */
function rawConnection(): { socket: Socket; received: () => string; closedAfterMs: () => number | undefined; opened: Promise<void> } {
  const url = new URL(api.url);
  const socket = connect(Number(url.port), url.hostname);
  const began = Date.now();
  let text = '';
  let closedAt: number | undefined;
  socket.on('data', (chunk) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => (closedAt = Date.now()));
  return { socket, received: () => text, closedAfterMs: () => (closedAt === undefined ? undefined : closedAt - began), opened: new Promise((resolve) => socket.once('connect', () => resolve())) };
}

/** Sends `head`, then one byte of `trickle` each 500 ms while the socket is open; resolves when the server closes it. */
async function trickled(head: string, trickle: string) {
  const connection = rawConnection();
  await connection.opened;
  connection.socket.write(head);
  let sent = 0;
  const timer = setInterval(() => {
    if (connection.closedAfterMs() === undefined && !connection.socket.destroyed) connection.socket.write(trickle[sent++ % trickle.length]!);
  }, 500);
  try {
    // Generous: 15 times the configured timeout (the server checks its connections each second).
    const closedAfterMs = await eventually(() => connection.closedAfterMs(), { timeoutMs: 15 * REQUEST_TIMEOUT_MS, what: 'the server to close the slow request' });
    return { closedAfterMs, bytesSent: sent, firstLine: connection.received().split('\r\n')[0] };
  } finally {
    clearInterval(timer);
    connection.socket.destroy();
  }
}

const bodyHead = (token: string | null) =>
  `POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;

test.each([
  ['a body trickled with a token', bodyHead(TOKENS.acme.token), ' '],
  ['a body trickled without a token (answered 401 at once)', bodyHead(null), ' '],
  ['headers trickled', 'POST /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X'],
])('%s is cut off by the request timeout', async (what, head, trickle) => {
  const outcome = await trickled(head, trickle);
  console.log(`${what}: closed by the server after ${outcome.closedAfterMs} ms (${outcome.bytesSent} bytes trickled; answer: ${outcome.firstLine || 'none'})`);
  expect(outcome.closedAfterMs).toBeGreaterThan(0);
  // Told why, when nothing was answered before.
  if (!/401/.test(outcome.firstLine ?? '')) expect(outcome.firstLine).toBe('HTTP/1.1 408 Request Timeout');
});

test('a live event stream outlives the request timeout (its request was complete at once): it still delivers once a slow request beside it has been cut', async () => {
  const { body } = await api.call<{ id: string }>('POST', '/v1/sessions', { body: { prompt: 'Stream me [[sim think=1000h]]' } });
  const thinking = await waitForApiPhase(api, body.id, 'thinking');
  const response = await fetch(`${api.url}/v1/sessions/${body.id}/events`, { headers: { authorization: `Bearer ${TOKENS.acme.token}` } });
  expect(response.status).toBe(200);
  const began = Date.now();
  // The server's timeout check has run, and cut a slow request, while this stream was open.
  const cut = await trickled(bodyHead(TOKENS.acme.token), ' ');
  await api.sessions.sim.finishPhase(thinking.heygenSessionId as string);
  const reader = response.body!.getReader();
  let text = '';
  while (!/event: review/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  await reader.cancel();
  console.log(`stream open ${Date.now() - began} ms, beside a slow request cut after ${cut.closedAfterMs} ms; events: ${[...text.matchAll(/event: (\w+)/g)].map((m) => m[1]).join(', ')}`);
  expect(text).toMatch(/event: review/);
});

test('connections beyond API_MAX_CONNECTIONS are refused; the ones held go on', async () => {
  // Up to the cap, counting the connections this file's other requests still keep alive.
  const open = await new Promise<number>((resolve, reject) => api.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
  const held = Array.from({ length: 40 - open }, () => rawConnection());
  await Promise.all(held.map((c) => c.opened));
  // Kept alive between requests: each holds its connection.
  for (const c of held) c.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await eventually(() => held.every((c) => c.received().startsWith('HTTP/1.1 200')), { what: 'the held connections to be answered' });
  const extra = rawConnection();
  extra.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const refusedAfter = await eventually(() => extra.closedAfterMs(), { what: 'the connection past the cap to be refused' });
  for (const c of held) c.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await eventually(() => held.every((c) => c.received().split('HTTP/1.1 200').length === 3), { what: 'the held connections to be answered again' });
  console.log(`${open} connections open before, ${held.length} more held; the next one: closed after ${refusedAfter} ms, answer ${JSON.stringify(extra.received())}; the held ones: answered twice each`);
  expect(extra.received()).toBe('');
  for (const c of [...held, extra]) c.socket.destroy();
});
