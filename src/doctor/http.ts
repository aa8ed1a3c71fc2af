// One HTTP request to slurmrestd outside the exporter's client, with the same transport settings (TLS
// verification, unix socket, timeouts): the unauthenticated probe, and the clock reading from /diag.
import { readFile } from 'node:fs/promises';
import { Client } from 'undici';
import type { SlurmRestConfig } from '../config/types.ts';
import { parseSlurmUrl } from '../slurm/rest/client.ts';

type SlurmConfig = SlurmRestConfig;

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Wall-clock ms when the request went out and when the headers were in. */
  sentAt: number;
  receivedAt: number;
}

const BODY_LIMIT = 8 * 1024 * 1024;

async function readLimited(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > BODY_LIMIT) throw Object.assign(new Error(`answer over ${BODY_LIMIT} bytes`), { code: 'DOCTOR_TOO_LARGE' });
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** GET `path` (under slurm.url's prefix) with the given headers; throws undici's errors as they are. */
export async function slurmGet(cfg: SlurmConfig, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const target = parseSlurmUrl(cfg.url!);
  const ca = cfg.tls.caFile ? await readFile(cfg.tls.caFile) : undefined;
  const client = new Client(target.origin, {
    connectTimeout: cfg.connectionTimeoutMs,
    headersTimeout: cfg.requestTimeoutMs,
    bodyTimeout: cfg.requestTimeoutMs,
    ...(target.socketPath ? { socketPath: target.socketPath } : {}),
    connect: { ca, rejectUnauthorized: !cfg.tls.insecureSkipVerify },
  });
  try {
    const sentAt = Date.now();
    const res = await client.request({ method: 'GET', path: `${target.prefix}${path}`, headers: { accept: 'application/json', ...headers } });
    const receivedAt = Date.now();
    const body = await readLimited(res.body as AsyncIterable<Buffer>);
    return { status: res.statusCode, headers: res.headers, body, sentAt, receivedAt };
  } finally {
    await client.close().catch(() => client.destroy());
  }
}
