import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseImageReference } from '../../oci/image-reference';
import { pushImage } from './push-image';
import { writeStreamAtomic } from '../../util/atomic-write';
import { fetchBlob, pullImageToLayout, pullManifest } from './pull-image';
import { DigestMismatchError } from '../../oci/digest';
import { startFakeRegistry, type FakeRegistry } from './__fixtures__/fake-registry';
import { bytesLayer, makeImage, seededBytes } from './__fixtures__/test-image';

let registry: FakeRegistry | undefined;
let dir: string | undefined;
afterEach(async () => {
  await registry?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  registry = undefined;
  dir = undefined;
});

describe('pull', () => {
  it('pulls manifest, config and layers into an OCI layout', async () => {
    registry = await startFakeRegistry();
    dir = await mkdtemp(join(tmpdir(), 'nxai-pull-'));
    const opts = { dockerConfig: { configDir: dir, env: {} } };
    const image = makeImage([bytesLayer(seededBytes(100_000, 1)), bytesLayer(seededBytes(10, 2))]);
    const ref = parseImageReference(`${registry.host}/asset/p:1`);
    await pushImage(image, [ref], opts);

    const manifest = await pullManifest(ref, opts);
    expect(manifest.digest).toBe(image.manifest.descriptor.digest);
    expect(manifest.bytes.equals(image.manifest.bytes)).toBe(true);

    const layout = join(dir, 'layout');
    const result = await pullImageToLayout(ref, layout, opts);
    expect(result.manifestDigest).toBe(image.manifest.descriptor.digest);
    expect(result.fetched).toHaveLength(3);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations: Record<string, string> }>;
    };
    expect(index.manifests).toEqual([
      expect.objectContaining({ digest: image.manifest.descriptor.digest, annotations: { 'org.opencontainers.image.ref.name': '1' } }),
    ]);
    const layer = image.layers[0]!;
    expect((await readFile(join(layout, 'blobs', 'sha256', layer.descriptor.digest.slice(7)))).equals(seededBytes(100_000, 1))).toBe(true);
    // second pull fetches nothing
    expect((await pullImageToLayout(ref, layout, opts)).fetched).toEqual([]);
  });

  it('fetchBlob fails on bytes that do not match the digest, and nothing is left behind', async () => {
    registry = await startFakeRegistry();
    dir = await mkdtemp(join(tmpdir(), 'nxai-pull-'));
    const opts = { dockerConfig: { configDir: dir, env: {} } };
    const image = makeImage([bytesLayer(seededBytes(50_000, 3))]);
    const ref = parseImageReference(`${registry.host}/asset/c:1`);
    await pushImage(image, [ref], opts);
    const digest = image.layers[0]!.descriptor.digest;
    const stored = registry.blobs.get(digest)!;
    stored[100] ^= 0xff; // corrupt the registry's copy

    const target = join(dir, 'out', 'blob');
    const error = await writeStreamAtomic(target, await fetchBlob(ref, digest, opts)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(await readdir(join(dir, 'out'))).toEqual([]);
  });
});
