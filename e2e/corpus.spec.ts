// A corpus of many small files, with real nx and the test run's dockerd: the
// small files are grouped into layers whose boundaries depend on the paths
// (layer-plan.ts), so a one-file edit re-makes one group; Docker's image then
// differs from the old one in that layer, and the classic store is sent only
// that layer and the ones above it (their chain ids changed).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, e2eEngine, removeImagesOf } from './support/docker';
import { createWorkspace, runNx, type Workspace } from './support/workspace';
import { sha256File, sha256 } from './support/sha256';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { readResult } from './support/asset-image-result';

const IMAGE = 'localhost:5000/asset/e2e-corpus';
const PROJECT = 'assets-corpus';
const FILES = 4800;
const FILE_SIZE = 16 * 1024;

const fileName = (i: number) => `d${String(i % 40).padStart(2, '0')}/f${String(i).padStart(5, '0')}.txt`;

async function dockerLayers(reference: string): Promise<string[]> {
  return JSON.parse((await docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', reference])).stdout) as string[];
}

describe('a corpus of many small files', () => {
  let ws: Workspace;

  beforeAll(async () => {
    const files: Record<string, string | Buffer> = {
      '.gitignore': 'dist\n.asset-images\nassets/corpus/d*/\n',
      // One platform: the test is about layers, not variants.
      'assets/corpus/asset.json': `${JSON.stringify({ image: IMAGE, tags: ['1'], platforms: ['linux/amd64'] }, null, 2)}\n`,
    };
    for (let i = 0; i < FILES; i++) files[`assets/corpus/${fileName(i)}`] = randomBytes(FILE_SIZE);
    ws = await createWorkspace(files);
  });
  afterAll(async () => {
    await removeImagesOf(IMAGE);
    await ws?.dispose();
  });

  it('a one-file edit re-makes one group: the other layers keep their digests, the Docker image differs in that layer alone, and Docker is sent no layer below it', async () => {
    const first = await runNx(ws, ['run', `${PROJECT}:asset-image`, '--load=true']);
    expect(first.exitCode).toBe(0);
    const before = readResult(ws, PROJECT);
    // 75 MiB of small files: several groups of about 16 MiB, each file in exactly one.
    expect(before.layers.length).toBeGreaterThanOrEqual(3);
    expect(before.layers.flatMap((l) => l.files)).toHaveLength(FILES);
    const dockerBefore = await dockerLayers(`${IMAGE}:1`);
    expect(dockerBefore).toHaveLength(before.layers.length);

    // Rewritten in place, same size, new bytes.
    const edited = fileName(2345);
    const bytes = randomBytes(FILE_SIZE);
    writeFileSync(ws.path('assets/corpus', edited), bytes);
    const second = await runNx(ws, ['run', `${PROJECT}:asset-image`, '--load=true']);
    const after = readResult(ws, PROJECT);
    expect(after.manifestDigest).not.toBe(before.manifestDigest);
    expect(after.layers.map((l) => l.files)).toEqual(before.layers.map((l) => l.files));

    const kept = new Set(before.layers.map((l) => l.digest));
    const changed = after.layers.filter((l) => !kept.has(l.digest));
    expect(changed).toHaveLength(1);
    expect(changed[0]!.files).toContain(edited);
    // The bytes re-made are that group's (the benchmark measures the share on the 20,000-file corpus).
    expect(changed[0]!.size).toBeLessThan(after.layers.reduce((sum, l) => sum + l.size, 0));

    const dockerAfter = await dockerLayers(`${IMAGE}:1`);
    expect(dockerAfter.filter((id) => !dockerBefore.includes(id))).toHaveLength(1);
    // Docker keys a layer by its whole stack below it (the chain id): the classic store is sent the changed
    // layer and the ones above it (same bytes, new chains), never the ones below.
    const position = after.layers.findIndex((l) => l.digest === changed[0]!.digest);
    if (e2eEngine() === '20.10') expect(second.stdout).toContain(`sent ${after.layers.length - position} of ${after.layers.length} layers`);

    // What Docker holds is the new file.
    const container = (await docker(['create', `${IMAGE}:1`, 'none'])).stdout.trim();
    const out = tempDir('nxai-corpus-');
    try {
      await docker(['cp', `${container}:/${edited}`, path.join(out, 'edited')]);
      expect(sha256File(path.join(out, 'edited'))).toBe(sha256(bytes));
    } finally {
      await docker(['rm', container]);
      removeTempDirs();
    }
  });
});
