/**
 * Temporal Cloud and mTLS clusters: API key and client certificates (paths or inline PEM), parsed once
 * with errors naming the variable, and passed the same way to clients and workers.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/service-config';
import { connectionOptions } from '../../src/temporal/connection';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const KEY = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
// Parsing checks PEM framing, not certificate semantics: a PEM public key stands in for a certificate.
const CERT = publicKey.export({ type: 'spki', format: 'pem' }).toString();
let scratch: string;
let certPath: string;
let keyPath: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'vao-tls-'));
  certPath = path.join(scratch, 'client.pem');
  keyPath = path.join(scratch, 'client.key');
  await writeFile(certPath, CERT);
  await writeFile(keyPath, KEY);
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const cloud = { TEMPORAL_ADDRESS: 'acme-prod.a1b2c.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'acme-prod.a1b2c' };

function problem(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

test('locally: plain, no key', () => {
  expect(connectionOptions(loadConfig({}))).toEqual({ address: '127.0.0.1:7233' });
});

test('Temporal Cloud with an API key: TLS on, key passed', () => {
  const config = loadConfig({ ...cloud, TEMPORAL_API_KEY: 'eyJhbGciOi.cloud.key' });
  expect(config.temporal).toMatchObject({ address: cloud.TEMPORAL_ADDRESS, namespace: cloud.TEMPORAL_NAMESPACE, embedded: false });
  expect(connectionOptions(config)).toEqual({ address: cloud.TEMPORAL_ADDRESS, tls: {}, apiKey: 'eyJhbGciOi.cloud.key' });
});

test('mTLS from files, with a CA and a server name', () => {
  const config = loadConfig({
    ...cloud,
    TEMPORAL_TLS_CERT_PATH: certPath,
    TEMPORAL_TLS_KEY_PATH: keyPath,
    TEMPORAL_TLS_CA_PATH: certPath,
    TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
  });
  const options = connectionOptions(config);
  expect(options.tls).toEqual({
    clientCertPair: { crt: Buffer.from(CERT), key: Buffer.from(KEY) },
    serverRootCACertificate: Buffer.from(CERT),
    serverNameOverride: 'temporal.internal',
  });
  expect(options).not.toHaveProperty('apiKey');
});

test('mTLS inline, with newlines escaped as \\n (as secret stores often hand them over)', () => {
  const config = loadConfig({ ...cloud, TEMPORAL_TLS_CERT: CERT.replace(/\n/g, '\\n'), TEMPORAL_TLS_KEY: KEY });
  const tls = connectionOptions(config).tls as { clientCertPair: { crt: Buffer; key: Buffer } };
  // Surrounding whitespace is trimmed from variables; the PEM blocks themselves are intact.
  expect(tls.clientCertPair.crt.toString().trim()).toBe(CERT.trim());
  expect(tls.clientCertPair.key.toString().trim()).toBe(KEY.trim());
});

test('TEMPORAL_TLS=true without certificates: server-authenticated TLS', () => {
  expect(connectionOptions(loadConfig({ ...cloud, TEMPORAL_TLS: 'true' })).tls).toEqual({});
});

test.each([
  ['a certificate without its key', () => ({ TEMPORAL_TLS_CERT_PATH: certPath }), /TEMPORAL_TLS_KEY: a client certificate needs its key/],
  ['a key without its certificate', () => ({ TEMPORAL_TLS_KEY: KEY }), /TEMPORAL_TLS_CERT: a client key needs its certificate/],
  ['both inline and a path', () => ({ TEMPORAL_TLS_CERT: CERT, TEMPORAL_TLS_CERT_PATH: certPath, TEMPORAL_TLS_KEY: KEY }), /TEMPORAL_TLS_CERT_PATH: set either/],
  ['an unreadable file', () => ({ TEMPORAL_TLS_CERT_PATH: path.join(scratch, 'missing.pem'), TEMPORAL_TLS_KEY: KEY }), /TEMPORAL_TLS_CERT_PATH: cannot read .*missing\.pem \(ENOENT\)/],
  ['a file that is not PEM', () => ({ TEMPORAL_TLS_CA_PATH: __filename }), /TEMPORAL_TLS_CA_PATH: .* is not a PEM file/],
  ['inline text that is not PEM', () => ({ TEMPORAL_TLS_CERT: 'hello', TEMPORAL_TLS_KEY: KEY }), /TEMPORAL_TLS_CERT: expected PEM text/],
  ['TLS off with a certificate', () => ({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CERT: CERT, TEMPORAL_TLS_KEY: KEY }), /TEMPORAL_TLS: is false, but a client certificate is configured/],
])('%s is refused, naming the variable', (_name, env, message) => {
  const text = problem({ ...cloud, ...env() });
  expect(text).toMatch(message);
  expect(text).not.toContain('PRIVATE KEY');
});
