import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../oci/image';
import type { Compression } from '../transports/compression';
import { writeFileAtomic } from '../util/atomic-write';

/**
 * diffID + compression → compressed digest and size, so a compressed layer is
 * compressed once per content, not on every build. Stored as one small file per
 * entry under the store: concurrent builds never lose each other's entries.
 */
export class CompressedLayerCache {
  constructor(private readonly dir: string) {}

  private file(diffId: Digest, compression: Compression): string {
    return join(this.dir, compression, `${diffId.slice('sha256:'.length)}.json`);
  }

  async get(diffId: Digest, compression: Compression): Promise<{ digest: Digest; size: number } | undefined> {
    try {
      const value = JSON.parse(await readFile(this.file(diffId, compression), 'utf8')) as { digest?: unknown; size?: unknown };
      if (typeof value.digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(value.digest) && typeof value.size === 'number') {
        return { digest: value.digest as Digest, size: value.size };
      }
    } catch {
      // missing or unreadable: treat as absent
    }
    return undefined;
  }

  async set(diffId: Digest, compression: Compression, known: { digest: Digest; size: number }): Promise<void> {
    await writeFileAtomic(this.file(diffId, compression), JSON.stringify(known));
  }
}
