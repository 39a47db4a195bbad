/**
 * The API's JSON body parser: UTF-8 only (RFC 8259), read strictly, and refusing the keys that would
 * reach an object's prototype, each with a message that says which rule the body broke.
 */
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The charset a Content-Type declares, lower-cased and unquoted, if any. */
function declaredCharset(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType ?? '');
  return match?.[2]?.toLowerCase();
}

/** Pollution keys: `__proto__` anywhere, `constructor` holding a `prototype`. */
function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new ApiError('invalid_request', 'The body has a "__proto__" key, which is not accepted.');
  if (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype')) {
    throw new ApiError('invalid_request', 'The body has a "constructor" key holding a "prototype", which is not accepted.');
  }
  return value;
}

export function parseJsonBody(request: FastifyRequest, body: Buffer): unknown {
  const charset = declaredCharset(request.headers['content-type']);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ApiError('unsupported_media_type', 'Send JSON in UTF-8 (Content-Type: application/json; charset=utf-8).');
  }
  if (body.length === 0) throw new ApiError('invalid_request', 'The body is empty; send a JSON value or no Content-Type.');
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new ApiError('invalid_request', 'The body is not valid UTF-8.');
  }
  try {
    return JSON.parse(text, refusePrototypeKeys);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError('invalid_request', 'The body is not valid JSON.');
  }
}
