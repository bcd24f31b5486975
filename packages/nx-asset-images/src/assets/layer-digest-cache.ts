import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../oci/image';
import { writeFileAtomic } from '../util/atomic-write';

export interface KnownBlob {
  digest: Digest;
  size: number;
}

/**
 * Digests of layers that are a pure function of what the analysis already
 * knows, so a build does not read the bytes again to learn them:
 *   - a compressed layer, by its diffID and codec (compressed once per content);
 *   - a grouped small-files layer, by its entries' paths, modes, sizes, sha256
 *     values and mtime (re-read only when one of them changed).
 * One small file per entry under the store: concurrent builds never lose each
 * other's entries, and a corrupt or missing entry only means a recomputation.
 */
export class LayerDigestCache {
  constructor(private readonly dir: string) {}

  private file(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  async get(key: string): Promise<KnownBlob | undefined> {
    try {
      const value = JSON.parse(await readFile(this.file(key), 'utf8')) as { digest?: unknown; size?: unknown };
      if (typeof value.digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(value.digest) && typeof value.size === 'number') {
        return { digest: value.digest as Digest, size: value.size };
      }
    } catch {
      // missing or unreadable: treat as absent
    }
    return undefined;
  }

  async set(key: string, known: KnownBlob): Promise<void> {
    await writeFileAtomic(this.file(key), JSON.stringify(known));
  }
}
