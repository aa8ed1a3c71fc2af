// A rendered piece of the page kept as bytes, with its gzip made once (in libuv's thread pool, off the event
// loop) and reused by every compressed scrape until the piece is re-rendered. gzip members may be concatenated
// (RFC 1952 §2.2; Go's gzip reader, which Prometheus uses, reads multistream by default), so a page is the
// cached members of the big pieces plus a small member for what changes on every scrape.
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const gzip = promisify(zlib.gzip);

export class PreparedPiece {
  readonly raw: Buffer;
  private gz: Promise<Buffer> | undefined;

  constructor(text: string | Buffer) {
    this.raw = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  }

  /** A piece over bytes rendered elsewhere (a collection thread), without copying them. */
  static fromBytes(bytes: Uint8Array): PreparedPiece {
    return new PreparedPiece(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** The piece as one gzip member; computed on first use, then cached. */
  gzipped(level = 1): Promise<Buffer> {
    this.gz ??= gzip(this.raw, { level });
    return this.gz;
  }
}
