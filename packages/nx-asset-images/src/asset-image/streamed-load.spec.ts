// When the build's hash pass does not stream: it must then be `hashFiles`, result for result. The streaming itself
// (into the real engine) is e2e/streamed-load.spec.ts; here no engine answers (a socket that does not exist).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planLayers } from '../asset/layer-plan';
import { groupLayerKey } from '../assembly/build-asset-image';
import { LayerDigestCache } from '../assembly/layer-digest-cache';
import { hashFiles, statStampSync, type HashFilesOptions, type HashInputFile } from '../hashing/hasher';
import { StatCache } from '../hashing/stat-cache';
import { StreamedLoadPass } from './streamed-load';

const NO_ENGINE = 'unix:///nonexistent/nxai-no-docker.sock';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nxai-streamed-pass-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function folder(count: number): { files: HashInputFile[]; plan: ReturnType<typeof planLayers> } {
  const files: HashInputFile[] = [];
  for (let i = 0; i < count; i++) {
    const relPath = `f${i}.txt`;
    const absPath = join(dir, relPath);
    writeFileSync(absPath, randomBytes(1000 + i));
    files.push({ absPath, relPath, size: 1000 + i, stamped: statStampSync(absPath) });
  }
  const plan = planLayers(
    files.map((f) => ({ relPath: f.relPath!, size: f.size, mode: 0o644, sha256: '' })),
    { destination: '/' },
  );
  return { files, plan };
}

function pass(allowed: boolean): StreamedLoadPass {
  return new StreamedLoadPass({ mtime: 0, layerDigests: new LayerDigestCache(join(dir, 'layer-digests')), allowed, dockerHost: NO_ENGINE });
}

describe('StreamedLoadPass.hashPass without a stream', () => {
  const options = (cache: StatCache): HashFilesOptions => ({ cache, workerFile: false, racyWindowMs: 0 });

  it.each([
    ['the build may not stream (no load, or compressed layers)', false],
    ['no engine answers', true],
  ])('%s: the results are hashFiles results, and no load is streaming', async (_what, allowed) => {
    const { files, plan } = folder(5);
    const streamed = pass(allowed);
    const got = await streamed.hashPass(files, options(StatCache.inMemory()), plan);
    expect(got).toEqual(await hashFiles(files, options(StatCache.inMemory())));
    expect(streamed.streaming).toBe(false);
    expect(streamed.abandoned).toBeUndefined();
  });

  it('every layer known without reading (stat cache and layer digest cache), no engine answering: the stat cache answers, nothing streams', async () => {
    const { files, plan } = folder(3);
    const cache = StatCache.inMemory();
    const first = await hashFiles(files, options(cache));
    const streamed = pass(true);
    // What a build would have remembered for the group.
    const layerDigests = new LayerDigestCache(join(dir, 'layer-digests'));
    for (const layer of plan) {
      const key = groupLayerKey(
        0,
        layer.files.map((f) => ({ ...f, sha256: first.find((h) => h.absPath.endsWith(f.relPath))!.sha256 })),
      );
      await layerDigests.set(key, { digest: `sha256:${'1'.repeat(64)}`, size: 1 });
    }
    const got = await streamed.hashPass(files, options(cache), plan);
    expect(got.map((h) => h.sha256)).toEqual(first.map((h) => h.sha256));
    expect(got.every((h) => h.fromCache)).toBe(true);
    expect(streamed.streaming).toBe(false);
  });

  it('a file the plan has but the pass is not given (absent, pinned by the lock): not streamed', async () => {
    const { files, plan } = folder(4);
    const streamed = pass(true);
    const got = await streamed.hashPass(files.slice(1), options(StatCache.inMemory()), plan);
    expect(got).toHaveLength(3);
    expect(streamed.streaming).toBe(false);
  });
});
