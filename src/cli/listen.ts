/**
 * `vao listen`: a local receiver for a session's notifications, for trying them out. It verifies each
 * delivery's Standard Webhooks signature (the `standardwebhooks` library) and prints one line per event;
 * a delivery that does not verify is refused with 401, so the sender's log shows it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

const MAX_BODY_BYTES = 1_048_576;

export interface Listener {
  url: string;
  close: () => Promise<void>;
}

interface NotificationBody {
  type?: string;
  data?: { session?: { id?: string; phase?: string; video?: { url?: string | null } | null; error?: { reason?: string } | null } };
}

function describe(id: string, event: NotificationBody): string {
  const session = event.data?.session;
  const extra = session?.video?.url ? ` video ${session.video.url}` : session?.error?.reason ? ` (${session.error.reason})` : '';
  return `${new Date().toISOString().slice(11, 19)} ${event.type ?? '?'} ${session?.id ?? '?'} ${session?.phase ?? '?'}${extra} [${id}]`;
}

export async function listen(options: { host: string; port: number; secret: string; out: (line: string) => void }): Promise<Listener> {
  const hook = new Webhook(options.secret);
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) request.destroy();
      else chunks.push(chunk);
    });
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const event = hook.verify(body, request.headers as Record<string, string>) as NotificationBody;
        options.out(`${describe(String(request.headers['webhook-id']), event)}\n`);
        response.writeHead(204).end();
      } catch (error) {
        options.out(`refused a delivery: ${(error as Error).message}\n`);
        response.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
