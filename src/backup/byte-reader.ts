// Exact byte counts from a stream of chunks: what the archive and the encryption readers both parse with.

/** Reads exact byte counts from a stream of chunks. */
export class ByteReader {
  private buf = Buffer.alloc(0);
  private done = false;
  private readonly it: AsyncIterator<Uint8Array>;
  constructor(src: AsyncIterable<Uint8Array>) {
    this.it = src[Symbol.asyncIterator]();
  }
  /** n bytes, or fewer only at the end of the stream. */
  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : Buffer.from(r.value);
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }
}
