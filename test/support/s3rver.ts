// s3rver, an S3 stand-in run in process on port 0, for the S3 destination tests. It ships no type declarations:
// the little used here is typed by hand. It does NOT check request signatures (V4 signing is unimplemented there:
// any secret passes, only the access key id must be known, and its built-in one is S3RVER), so the tests prove
// the protocol and the error mapping, not that signing is right.
import type * as NodeCrypto from 'node:crypto';
import { createRequire } from 'node:module';
import type net from 'node:net';

export interface S3rverInstance {
  run(): Promise<net.AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (opts: Record<string, unknown>) => S3rverInstance;
const require = createRequire(import.meta.url);
export const S3rver = require('s3rver') as S3rverClass;

// s3rver encrypts its ListObjectsV2 continuation tokens with single DES, which the OpenSSL 3 in Node 24 refuses
// (legacy provider). Triple DES with the key repeated three times is the same cipher (EDE with K1 = K2 = K3 is DES),
// so the stand-in's pagination is routed to it, in the test process that loads this file only.
const nodeCrypto = require('node:crypto') as typeof NodeCrypto;
const [cipheriv, decipheriv] = [nodeCrypto.createCipheriv, nodeCrypto.createDecipheriv];
const tripled = (key: Buffer) => Buffer.concat([key, key, key]);
Object.assign(nodeCrypto, {
  createCipheriv: (alg: string, key: Buffer, iv: Buffer) => (alg === 'des' ? cipheriv('des-ede3-cbc', tripled(key), iv) : cipheriv(alg, key, iv)),
  createDecipheriv: (alg: string, key: Buffer, iv: Buffer) => (alg === 'des' ? decipheriv('des-ede3-cbc', tripled(key), iv) : decipheriv(alg, key, iv)),
});
