// The content key's hash pass: the same hashes as hashFiles, plus the group digests of the groups it read, which must
// be the digests of the groups' tars as a build makes them (tarStream over the planned files).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planLayers, type PlannedLayer } from '../asset/layer-plan';
import { hashFiles, statStampSync, type HashFilesOptions, type HashInputFile } from '../hashing/hasher';
import { StatCache } from '../hashing/stat-cache';
import { tarStream } from '../tar/tar-stream';
import { groupLayerKey } from './build-asset-image';
import { groupDigestHashPass } from './group-digest-pass';
import { LayerDigestCache } from './layer-digest-cache';

let dir: string;
let layerDigests: LayerDigestCache;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nxai-group-pass-'));
  layerDigests = new LayerDigestCache(join(dir, 'layer-digests'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const options = (cache: StatCache): HashFilesOptions => ({ cache, workerFile: false, racyWindowMs: 0 });

/** `count` small files in two groups at most (a group target of 4 KiB). */
function folder(count: number): { files: HashInputFile[]; plan: PlannedLayer[] } {
  const files: HashInputFile[] = [];
  for (const d of ['d0', 'd1', 'd2']) mkdirSync(join(dir, 'asset', d), { recursive: true });
  for (let i = 0; i < count; i++) {
    const relPath = `d${i % 3}/f${i}.txt`;
    const absPath = join(dir, 'asset', relPath);
    writeFileSync(absPath, randomBytes(700 + i));
    files.push({ absPath, relPath, size: 700 + i, stamped: statStampSync(absPath) });
  }
  const plan = planLayers(
    files.map((f) => ({ relPath: f.relPath!, size: f.size, mode: 0o644, sha256: '' })),
    { destination: '/', smallGroupTargetBytes: 4096 },
  );
  return { files, plan };
}

async function sha256Of(stream: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

/** The group's digest as a build makes it, and its key in the layer digest cache. */
async function buildDigest(layer: PlannedLayer, files: HashInputFile[]): Promise<{ key: string; digest: string }> {
  const absOf = (relPath: string) => files.find((f) => f.relPath === relPath)!.absPath;
  const sha = (relPath: string) =>
    createHash('sha256')
      .update(readFileSync(absOf(relPath)))
      .digest('hex');
  const entries = layer.files.map((f) => ({
    path: f.imagePath,
    mode: f.mode,
    size: f.size,
    read: async () => readFileSync(absOf(f.relPath)),
    open: () => createReadStream(absOf(f.relPath)),
  }));
  return {
    key: groupLayerKey(
      0,
      layer.files.map((f) => ({ ...f, sha256: sha(f.relPath) })),
    ),
    digest: await sha256Of(tarStream(entries, { mtime: 0 })),
  };
}

describe('groupDigestHashPass', () => {
  it('gives the hashFiles results and remembers every group digest a build would make', async () => {
    const { files, plan } = folder(12);
    expect(plan.length).toBeGreaterThan(1);
    const got = await groupDigestHashPass({ mtime: 0, layerDigests })(files, options(StatCache.inMemory()), plan);
    expect(got.map(({ sha256, size, absPath }) => ({ sha256, size, absPath }))).toEqual(
      (await hashFiles(files, options(StatCache.inMemory()))).map(({ sha256, size, absPath }) => ({ sha256, size, absPath })),
    );
    for (const layer of plan) {
      const expected = await buildDigest(layer, files);
      expect((await layerDigests.get(expected.key))?.digest).toBe(expected.digest);
    }
  });

  it('reads no group whose files the stat cache all answers for (a no-op stays a no-op)', async () => {
    const { files, plan } = folder(6);
    const cache = StatCache.inMemory();
    await hashFiles(files, options(cache));
    const got = await groupDigestHashPass({ mtime: 0, layerDigests })(files, options(cache), plan);
    expect(got.every((h) => h.fromCache)).toBe(true);
    expect(readdirSync(dir)).not.toContain('layer-digests');
  });

  it('leaves out a group with a file it is not given (absent, pinned by the lock), and still hashes the others', async () => {
    const { files, plan } = folder(12);
    const absent = plan[0]!.files[0]!.relPath;
    const given = files.filter((f) => f.relPath !== absent);
    const got = await groupDigestHashPass({ mtime: 0, layerDigests })(given, options(StatCache.inMemory()), plan);
    expect(got.map((h) => h.absPath)).toEqual(given.map((f) => f.absPath));
    expect(await layerDigests.get((await buildDigest(plan[0]!, files)).key)).toBeUndefined();
    for (const layer of plan.slice(1)) {
      const expected = await buildDigest(layer, files);
      expect((await layerDigests.get(expected.key))?.digest).toBe(expected.digest);
    }
  });
});
