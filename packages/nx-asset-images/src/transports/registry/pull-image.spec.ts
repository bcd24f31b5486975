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

  // Resume: the fake registry cuts blob bodies halfway; each retry must ask for the rest, and one hash covers all of it.
  it.each([
    { name: 'a registry that serves ranges: the rest is asked for with Range and answered 206', ignoreRange: false, status: 206 },
    { name: 'a server that ignores Range: the 200 body is read past the bytes already delivered', ignoreRange: true, status: 200 },
  ])('fetchBlob resumes a body that breaks off: $name', async ({ ignoreRange, status }) => {
    let cuts = 2;
    registry = await startFakeRegistry({
      ignoreRange,
      fault: (req) => (req.method === 'GET' && req.url?.includes('/blobs/') && cuts-- > 0 ? 'drop-mid-body' : undefined),
    });
    dir = await mkdtemp(join(tmpdir(), 'nxai-pull-'));
    const opts = { dockerConfig: { configDir: dir, env: {} }, retry: { baseDelayMs: 1 } };
    const bytes = seededBytes(3_000_000, 4);
    const image = makeImage([bytesLayer(bytes)]);
    const ref = parseImageReference(`${registry.host}/asset/r:1`);
    await pushImage(image, [ref], opts);
    const layer = image.layers[0]!.descriptor;

    const target = join(dir, 'out', 'blob');
    await writeStreamAtomic(target, await fetchBlob(ref, layer.digest, { ...opts, size: layer.size }));
    expect((await readFile(target)).equals(bytes)).toBe(true);
    const gets = registry.requests.filter((r) => r.method === 'GET' && r.url.includes(layer.digest));
    expect(gets).toHaveLength(3);
    expect(gets[0]!.headers.range).toBeUndefined();
    // Each resume asks from the bytes received so far (about half of what the cut body promised; the socket's
    // last bytes may be lost with it). A server without ranges cuts the whole body at its half each time, so
    // the second attempt may bring nothing new: ranges never go back, and with ranges they go forward.
    expect(gets[0]!.headers.range).toBeUndefined();
    const starts = gets.slice(1).map((g) => Number(/^bytes=(\d+)-$/.exec(String(g.headers.range))?.[1]));
    expect(starts.every((n) => n > 0 && n < bytes.length)).toBe(true);
    expect(starts[1]! > starts[0]! || (ignoreRange && starts[1] === starts[0])).toBe(true);
    // The cut responses never finish; the last one, which completes the blob, answered the resume.
    expect(gets[2]!.status).toBe(status);
  });

  it('fetchBlob: a resumed blob whose bytes are wrong still fails its digest', async () => {
    let cuts = 1;
    registry = await startFakeRegistry({
      fault: (req) => (req.method === 'GET' && req.url?.includes('/blobs/') && cuts-- > 0 ? 'drop-mid-body' : undefined),
    });
    dir = await mkdtemp(join(tmpdir(), 'nxai-pull-'));
    const opts = { dockerConfig: { configDir: dir, env: {} }, retry: { baseDelayMs: 1 } };
    const image = makeImage([bytesLayer(seededBytes(200_000, 5))]);
    const ref = parseImageReference(`${registry.host}/asset/w:1`);
    await pushImage(image, [ref], opts);
    const digest = image.layers[0]!.descriptor.digest;
    registry.blobs.get(digest)![150_000] ^= 0xff; // in the half only the resumed request sends
    const target = join(dir, 'out', 'blob');
    const error = await writeStreamAtomic(target, await fetchBlob(ref, digest, opts)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    const ranges = registry.requests.filter((r) => r.method === 'GET' && r.url.includes(digest)).map((r) => r.headers.range);
    expect(ranges).toHaveLength(2);
    expect(Number(/^bytes=(\d+)-$/.exec(String(ranges[1]))?.[1])).toBeLessThanOrEqual(150_000);
    expect(await readdir(join(dir, 'out'))).toEqual([]);
  });
});
