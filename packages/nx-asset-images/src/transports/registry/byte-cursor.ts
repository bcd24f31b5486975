/**
 * Sequential reads over one stream: skip N bytes, then hand out consecutive
 * sub-streams of exact lengths (upload chunks) that pull on demand, so a
 * multi-GB blob is sent in chunks without buffering more than one read.
 */
import { Readable } from 'node:stream';

export class ByteCursor {
  private readonly iterator: AsyncIterator<Buffer>;
  private leftover: Buffer | undefined;
  private position = 0;

  constructor(
    source: Readable,
    private readonly onBytes?: (position: number) => void,
  ) {
    this.iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  get offset(): number {
    return this.position;
  }

  /** Up to `max` bytes, or undefined at the end of the source. */
  private async read(max: number): Promise<Buffer | undefined> {
    let chunk = this.leftover;
    this.leftover = undefined;
    if (!chunk) {
      const next = await this.iterator.next();
      if (next.done) return undefined;
      chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    }
    if (chunk.length > max) {
      this.leftover = chunk.subarray(max);
      chunk = chunk.subarray(0, max);
    }
    this.position += chunk.length;
    return chunk;
  }

  async skip(count: number): Promise<void> {
    let remaining = count;
    while (remaining > 0) {
      const chunk = await this.read(remaining);
      if (!chunk) throw new Error(`source ended ${remaining} bytes before offset ${count}`);
      remaining -= chunk.length;
    }
  }

  /** A stream of exactly `length` next bytes (fails if the source ends early). */
  take(length: number): Readable {
    let remaining = length;
    const read = this.read.bind(this);
    const report = () => this.onBytes?.(this.position);
    return Readable.from(
      (async function* () {
        while (remaining > 0) {
          const chunk = await read(remaining);
          if (!chunk) throw new Error(`source ended ${remaining} bytes early`);
          remaining -= chunk.length;
          report();
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
  }

  /** Reads what is left to the end: triggers the source's final checks (digest verification). */
  async drain(): Promise<number> {
    let count = 0;
    for (let chunk = await this.read(Infinity); chunk; chunk = await this.read(Infinity)) count += chunk.length;
    return count;
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}
