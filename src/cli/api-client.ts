/**
 * The CLI's view of the HTTP API: one method per call, errors turned into messages a person can act on.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { readEventStream } from '../contract/event-stream';
import { LOCAL_API_URL_FILE } from '../paths';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export const EXIT = {
  ok: 0,
  /** watch: the session failed, was stopped or expired. */
  sessionEnded: 1,
  usage: 2,
  /** The API could not be reached, refused the token, or refused the request. */
  api: 3,
  /** watch: the session waits for a person (a storyboard to review or a question to answer). */
  needsInput: 10,
} as const;

export interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: { status?: string; reason?: string } };
}

export class ApiCallError extends CliError {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
    message: string,
  ) {
    super(message, EXIT.api);
  }
}

/** Where `npm start` listens when nothing says otherwise. */
export const DEFAULT_API_URL = 'http://127.0.0.1:3000';

/**
 * The API to call: --url, then VAO_URL, then the address `npm start` recorded under DATA_DIR (so a
 * non-default PORT goes with the token read from there), then the default.
 */
export function resolveUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const url = flag || env.VAO_URL || localApiUrl(env) || DEFAULT_API_URL;
  return url.replace(/\/+$/, '');
}

function localApiUrl(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return readFileSync(path.resolve(env.DATA_DIR || '.data', LOCAL_API_URL_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The token to use: --token, then VAO_TOKEN, then the one `npm start` generated under DATA_DIR. */
export function resolveToken(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag) return flag;
  if (env.VAO_TOKEN) return env.VAO_TOKEN;
  return localTokenFile(env).token;
}

/** What `npm start` keeps in DATA_DIR/api-token.json: its token and the secret of its notifications. */
export function localTokenFile(env: NodeJS.ProcessEnv): { token?: string; notifySecret?: string } {
  try {
    const local = JSON.parse(readFileSync(path.resolve(env.DATA_DIR ?? '.data', 'api-token.json'), 'utf8')) as { token?: unknown; notifySecret?: unknown };
    return {
      ...(typeof local.token === 'string' ? { token: local.token } : {}),
      ...(typeof local.notifySecret === 'string' ? { notifySecret: local.notifySecret } : {}),
    };
  } catch {
    return {};
  }
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
  ) {}

  async call<T>(method: string, path: string, options: { body?: unknown; idempotencyKey?: string } = {}): Promise<{ status: number; body: T }> {
    if (!this.token) {
      throw new CliError('No API token: pass --token, set VAO_TOKEN, or run `npm start` here (it keeps one in .data/api-token.json).', EXIT.api);
    }
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
        },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const { cause } = error as { cause?: { code?: string; message?: string } };
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError(`Cannot reach the API at ${this.baseUrl} (${reason}). Is it running (\`npm start\`)? Set VAO_URL or --url to its address.`, EXIT.api);
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { error: { message: text.slice(0, 200) } };
    }
    if (response.status >= 400) throw this.explain(response.status, body as ApiErrorBody, path);
    return { status: response.status, body: body as T };
  }

  /**
   * Downloads a file answer into `destination`: written to `<destination>.part` and renamed once whole,
   * so a broken download never leaves a file that looks complete. Reports progress as it goes.
   */
  async download(
    urlPath: string,
    destination: string,
    progress: (bytes: number, total: number | null) => void,
  ): Promise<{ bytes: number; sha256: string; etag: string | null }> {
    if (!this.token) throw new CliError('No API token: pass --token, set VAO_TOKEN, or run `npm start` here.', EXIT.api);
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${urlPath}`, { headers: { authorization: `Bearer ${this.token}` } });
    } catch (error) {
      const { cause } = error as { cause?: { code?: string; message?: string } };
      throw new CliError(`Cannot reach the API at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (error as Error).message}).`, EXIT.api);
    }
    if (response.status !== 200 || !response.body) throw await this.refusal(response, urlPath);
    const total = response.headers.get('content-length') === null ? null : Number(response.headers.get('content-length'));
    const hash = createHash('sha256');
    let bytes = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        bytes += chunk.length;
        progress(bytes, total);
        done(null, chunk);
      },
    });
    const partial = `${destination}.part`;
    try {
      await pipeline(Readable.fromWeb(response.body as ReadableStream<Uint8Array>), counted, createWriteStream(partial));
      if (total !== null && bytes !== total) throw new CliError(`The download stopped at ${bytes} of ${total} bytes; run the command again.`, EXIT.api);
      await rename(partial, destination);
    } catch (error) {
      await rm(partial, { force: true });
      if (error instanceof CliError) throw error;
      throw new CliError(`Could not save the video to ${destination}: ${(error as Error).message}`, EXIT.api);
    }
    return { bytes, sha256: hash.digest('hex'), etag: response.headers.get('etag')?.replace(/"/g, '') ?? null };
  }

  /**
   * A Server-Sent Events stream, event by event. Answers other than 200 throw as `call` does; a stream
   * that breaks ends the iteration with an error the caller may fall back from.
   */
  async *events(path: string): AsyncGenerator<{ event: string; data: unknown }> {
    if (!this.token) throw new CliError('No API token: pass --token, set VAO_TOKEN, or run `npm start` here.', EXIT.api);
    const response = await fetch(`${this.baseUrl}${path}`, { headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' } });
    if (response.status !== 200 || !response.body) throw await this.refusal(response, path);
    for await (const { event, data } of readEventStream(response.body as unknown as AsyncIterable<Uint8Array>)) yield { event, data };
  }

  /** An answer other than the stream or file asked for, as the error it stands for. */
  private async refusal(response: Response, path: string): Promise<ApiCallError> {
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: { message: text.slice(0, 200) } };
    }
    return this.explain(response.status, body as ApiErrorBody, path);
  }

  private explain(status: number, body: ApiErrorBody, path: string): ApiCallError {
    const code = body.error?.code;
    const message = body.error?.message ?? `HTTP ${status}`;
    if (status === 401) return new ApiCallError(status, body, `The API refused the token (${message}) Check VAO_TOKEN or --token.`);
    if (status === 403) return new ApiCallError(status, body, `The token may not do this: ${message}`);
    if (code === 'not_found' && path.startsWith('/v1/sessions/')) {
      return new ApiCallError(status, body, `No session ${decodeURIComponent(path.split('/')[3] ?? '')} (or not yours).`);
    }
    return new ApiCallError(status, body, `${message}${code ? ` [${code}]` : ''}`);
  }
}
