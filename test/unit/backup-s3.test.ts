// The S3 destination against s3rver, an S3 stand-in run in process on port 0. s3rver does NOT check request
// signatures (V4 signing is unimplemented there: any secret passes, only the access key id must be known, and its
// built-in one is S3RVER), so these tests prove the protocol and the error mapping, not that signing is right.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { S3rver, type S3rverInstance } from '../support/s3rver.ts';
import { after, before, test } from 'node:test';
import { S3Destination, createS3Destination } from '../../src/backup/destinations/s3.ts';
import type { S3DestinationOptions } from '../../src/backup/destinations/s3.ts';
import { DestinationError } from '../../src/backup/types.ts';


const SECRET = 'sEcReT-never-shown-4f1c9a';
const BUCKET = 'backups';
const dir = mkdtempSync(path.join(tmpdir(), 's3-test-'));
let server: S3rverInstance;
let endpoint = '';

function keyFiles(accessKeyId: string): S3DestinationOptions['credentialFiles'] {
  const id = path.join(dir, `id-${accessKeyId}`);
  const secret = path.join(dir, 'secret');
  writeFileSync(id, `${accessKeyId}\n`);
  writeFileSync(secret, `${SECRET}\n`);
  return { accessKeyIdFile: id, secretAccessKeyFile: secret };
}

function destination(over: Partial<S3DestinationOptions> = {}): S3Destination {
  return new S3Destination({
    name: 'primary',
    bucket: BUCKET,
    prefix: 'slurm/prod',
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentialFiles: keyFiles('S3RVER'),
    partSizeBytes: 5 * 1024 * 1024,
    maxAttempts: 1,
    ...over,
  });
}

async function* chunks(buf: Buffer, size = 256 * 1024): AsyncIterable<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function rejection(p: Promise<unknown>): Promise<DestinationError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DestinationError, `expected a DestinationError, got ${inspect(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

/** Neither the message, the cause, nor anything reachable from the error holds the secret key. */
function assertNoSecret(err: unknown): void {
  const text = inspect(err, { depth: 20, showHidden: true });
  assert.ok(!text.includes(SECRET), `the error leaks the secret key: ${text}`);
}

before(async () => {
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(dir, 'store'), configureBuckets: [{ name: BUCKET }] });
  const addr = await server.run();
  endpoint = `http://127.0.0.1:${addr.port}`;
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a multi-MB object goes up as a multipart upload with progress and reads back byte for byte', async () => {
  const dest = destination();
  const data = randomBytes(12 * 1024 * 1024 + 123);
  const up: number[] = [];
  const t0 = performance.now();
  await dest.put('monitoring/big.tar.gz', chunks(data), data.length, AbortSignal.timeout(60_000), (b) => up.push(b));
  const putMs = performance.now() - t0;
  assert.equal(up.at(-1), data.length, 'the last progress report is the whole size');
  assert.ok(up.length >= 3, `progress per part (12 MiB in 5 MiB parts), got ${up.length} reports`);
  const down: number[] = [];
  const t1 = performance.now();
  const back = await collect(await dest.get('monitoring/big.tar.gz', AbortSignal.timeout(60_000), (b) => down.push(b)));
  const getMs = performance.now() - t1;
  assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(data).digest('hex'));
  assert.equal(down.at(-1), data.length);
  const mib = data.length / 1024 / 1024;
  console.log(`s3rver throughput: put ${(mib / (putMs / 1000)).toFixed(1)} MiB/s, get ${(mib / (getMs / 1000)).toFixed(1)} MiB/s (${mib.toFixed(1)} MiB)`);
  const listed = await dest.list('monitoring/', AbortSignal.timeout(10_000));
  assert.deepEqual(
    listed.map((o) => [o.key, o.size]),
    [['monitoring/big.tar.gz', data.length]],
  );
  assert.ok(Math.abs(listed[0]!.mtimeMs - Date.now()) < 60_000);
  dest.close();
});

test('list follows continuation tokens across pages and returns keys relative to the prefix', async () => {
  const dest = destination({ listPageSize: 7 });
  const keys = Array.from({ length: 23 }, (_, i) => `configuration/cfg-${String(i).padStart(2, '0')}.tar.gz`);
  for (const k of keys) await dest.put(k, chunks(Buffer.from(k)), k.length, AbortSignal.timeout(10_000));
  const listed = await dest.list('configuration/', AbortSignal.timeout(10_000));
  assert.deepEqual(listed.map((o) => o.key).sort(), keys);
  assert.ok(listed.every((o) => o.size === o.key.length));
  assert.deepEqual(await dest.list('logs/', AbortSignal.timeout(10_000)), []);
  dest.close();
});

test('delete removes the object; a get afterwards is missing and names bucket and key', async () => {
  const dest = destination();
  await dest.put('logs/a.tar.gz', chunks(Buffer.from('abc')), 3, AbortSignal.timeout(10_000));
  await dest.delete('logs/a.tar.gz', AbortSignal.timeout(10_000));
  assert.deepEqual(await dest.list('logs/', AbortSignal.timeout(10_000)), []);
  const err = await rejection(dest.get('logs/a.tar.gz', AbortSignal.timeout(10_000)));
  assert.equal(err.kind, 'missing');
  assert.equal(err.destination, 'primary');
  assert.match(err.message, /s3:\/\/backups\/slurm\/prod\/logs\/a\.tar\.gz/);
  assertNoSecret(err);
  dest.close();
});

test('a missing key is "missing", naming the bucket and the key', async () => {
  const dest = destination();
  const err = await rejection(dest.get('monitoring/never.tar.gz', AbortSignal.timeout(10_000)));
  assert.equal(err.kind, 'missing');
  assert.match(err.message, /^S3 get s3:\/\/backups\/slurm\/prod\/monitoring\/never\.tar\.gz at http:\/\/127\.0\.0\.1:\d+: no such object/);
  assertNoSecret(err);
  dest.close();
});

test('an endpoint with nothing listening is "unreachable" for put, get, list and delete', async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  const dest = destination({ endpoint: `http://127.0.0.1:${port}`, connectTimeoutMs: 1000 });
  const signal = AbortSignal.timeout(20_000);
  const calls = [() => dest.put('x/y', chunks(Buffer.from('z')), 1, signal), () => dest.get('x/y', signal), () => dest.list('x/', signal), () => dest.delete('x/y', signal)];
  for (const call of calls) {
    const err = await rejection(call());
    assert.equal(err.kind, 'unreachable', err.message);
    assert.match(err.message, new RegExp(`s3://backups/slurm/prod/x/.* at http://127\\.0\\.0\\.1:${port}: cannot reach the endpoint \\(ECONNREFUSED\\)`));
    assertNoSecret(err);
  }
  dest.close();
});

test('an endpoint that accepts but never answers is "unreachable" once the request timeout passes', async () => {
  const held = new Set<net.Socket>();
  const srv = net.createServer((s) => held.add(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const dest = destination({ endpoint: `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, requestTimeoutMs: 300 });
    const err = await rejection(dest.list('x/', AbortSignal.timeout(10_000)));
    assert.equal(err.kind, 'unreachable', err.message);
    assert.match(err.message, /cannot reach the endpoint \((ETIMEDOUT|timeout)\)/);
    dest.close();
  } finally {
    for (const s of held) s.destroy();
    await new Promise((r) => srv.close(r));
  }
});

test('a bucket that does not exist is an "io" error naming the bucket, for put and list', async () => {
  const dest = destination({ bucket: 'no-such-bucket' });
  const put = await rejection(dest.put('a/b', chunks(Buffer.from('c')), 1, AbortSignal.timeout(10_000)));
  assert.equal(put.kind, 'io');
  assert.match(put.message, /s3:\/\/no-such-bucket\/slurm\/prod\/a\/b .*the bucket does not exist/);
  const list = await rejection(dest.list('a/', AbortSignal.timeout(10_000)));
  assert.equal(list.kind, 'io');
  assert.match(list.message, /no-such-bucket.*the bucket does not exist/);
  assertNoSecret(put);
  assertNoSecret(list);
  dest.close();
});

test('an unknown access key is "denied", and the error holds neither the secret nor the request', async () => {
  const dest = destination({ credentialFiles: keyFiles('AKIDUNKNOWN') });
  const err = await rejection(dest.list('a/', AbortSignal.timeout(10_000)));
  assert.equal(err.kind, 'denied');
  assert.match(err.message, /s3:\/\/backups\/slurm\/prod\/a\/ .*access denied \(InvalidAccessKeyId, HTTP 403\)/);
  // The cause is only the SDK error's name: no $response, no headers, no signature.
  assert.equal(err.cause, 'InvalidAccessKeyId');
  assertNoSecret(err);
  dest.close();
});

test('the client is configured without a logger, so the SDK never prints requests or credentials', () => {
  const dest = destination();
  const client = (dest as unknown as { client: { config: { logger?: { constructor: { name: string } } } } }).client;
  assert.ok(client.config.logger === undefined || client.config.logger.constructor.name === 'NoOpLogger', `logger: ${String(client.config.logger?.constructor.name)}`);
  assert.ok(!dest.describe().includes(SECRET) && !dest.describe().includes('S3RVER'));
  dest.close();
});

test('createS3Destination takes credentials from the SDK default chain (here the environment)', async () => {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = SECRET;
  try {
    const dest = createS3Destination({ name: 'secondary', bucket: BUCKET, prefix: 'dr/', endpoint, region: 'eu-west-1', forcePathStyle: true });
    await dest.put('certificates/c.tar.gz', chunks(Buffer.from('cert')), 4, AbortSignal.timeout(10_000));
    assert.equal((await collect(await dest.get('certificates/c.tar.gz', AbortSignal.timeout(10_000)))).toString(), 'cert');
    assert.deepEqual((await dest.list('certificates/', AbortSignal.timeout(10_000))).map((o) => o.key), ['certificates/c.tar.gz']);
    assert.equal(dest.describe(), `S3 bucket backups prefix dr/ at ${endpoint}`);
    (dest as S3Destination).close();
  } finally {
    for (const [k, v] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test('a credential file that cannot be read names the file, not a value', () => {
  assert.throws(
    () => destination({ credentialFiles: { accessKeyIdFile: path.join(dir, 'nope'), secretAccessKeyFile: path.join(dir, 'nope2') } }),
    /S3 access key id file .*nope: ENOENT/,
  );
});
