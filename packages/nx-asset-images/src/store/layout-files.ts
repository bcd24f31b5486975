/**
 * The two small files of an OCI image layout besides its blobs: `oci-layout`
 * (the version) and `index.json` (the image entries, merged under a
 * cross-process lock so parallel builds and pulls sharing a layout keep every
 * entry).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../oci/canonical-json';
import type { Descriptor } from '../oci/image';
import { indexEntriesFor, mergeIndex, type OciIndex } from '../oci/oci-index';
import { writeFileAtomic } from '../util/atomic-write';
import { withFileLock } from '../util/file-lock';
import { OciLayoutError } from './layout-errors';

export const OCI_LAYOUT_FILE_CONTENT = '{"imageLayoutVersion":"1.0.0"}';

/** Writes `oci-layout` when missing; refuses a layout of another version or an unreadable one. */
export async function ensureLayoutFile(dir: string): Promise<void> {
  const file = join(dir, 'oci-layout');
  try {
    const content = JSON.parse(await readFile(file, 'utf8')) as { imageLayoutVersion?: unknown };
    if (content.imageLayoutVersion !== '1.0.0')
      throw new OciLayoutError(`unsupported imageLayoutVersion ${JSON.stringify(content.imageLayoutVersion)}`, dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (error instanceof OciLayoutError) throw error;
      throw new OciLayoutError('unreadable oci-layout file', dir, { cause: error });
    }
    await writeFileAtomic(file, OCI_LAYOUT_FILE_CONTENT);
  }
}

/** The layout's `index.json`, or undefined when there is none yet. */
export async function readIndex(dir: string): Promise<OciIndex | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'index.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OciLayoutError('unreadable index.json', dir, { cause: error });
  }
  try {
    const index = JSON.parse(text) as OciIndex;
    if (!Array.isArray(index.manifests)) throw new Error('no "manifests" array');
    return index;
  } catch (error) {
    throw new OciLayoutError(`index.json is not a valid OCI index: ${(error as Error).message}`, dir, { cause: error });
  }
}

/**
 * Merges entries for `manifest` (one per ref name, or one unnamed entry) into
 * the layout's `index.json`, atomically and under the lock every writer takes.
 * The manifest blob itself must already be in the layout.
 */
export async function addIndexEntries(dir: string, manifest: Descriptor, refNames: readonly string[]): Promise<void> {
  await withFileLock(join(dir, 'index.json.lock'), async () => {
    const existing = await readIndex(dir);
    const index = mergeIndex(existing, indexEntriesFor(manifest, refNames));
    await writeFileAtomic(join(dir, 'index.json'), canonicalJson(index));
  });
}
