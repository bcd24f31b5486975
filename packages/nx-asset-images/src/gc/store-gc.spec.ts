import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runStoreGc } from './store-gc';
import { recordBuild } from './store-history';
import { statCacheDirOf, statCacheFileOf } from '../hashing/stat-cache';

const hex = (data: string) => createHash('sha256').update(data).digest('hex');

/** A workspace with one asset whose store holds three builds of it (v1, v2, v3 current) and some strays. */
async function fixture(root: string) {
  const store = join(root, '.asset-images');
  const blobs = join(store, 'oci', 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (data: string) => {
    await writeFile(join(blobs, hex(data)), data);
    return `sha256:${hex(data)}`;
  };
  const shared = await put('shared layer');
  const image = async (v: number) => {
    const config = await put(`config ${v}`);
    const layer = await put(`layer ${v} `.repeat(100));
    const manifest = await put(
      JSON.stringify({ schemaVersion: 2, config: { digest: config }, layers: [{ digest: layer }, { digest: shared }] }),
    );
    return { config, layer, manifest };
  };
  const [v1, v2, v3] = [await image(1), await image(2), await image(3)];
  await writeFile(
    join(store, 'oci', 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [v1, v2, v3].map((v, i) => ({ digest: v.manifest, annotations: { 'org.opencontainers.image.ref.name': `a:${i}` } })),
    }),
  );
  for (const v of [v1, v2, v3]) await recordBuild(store, 'assets-a', v.manifest as `sha256:${string}`);
  // Outside the store: a symlink in blobs/ must go as itself, its target untouched.
  await writeFile(join(root, 'outside.txt'), 'precious');
  await symlink(join(root, 'outside.txt'), join(blobs, hex('link')));
  await mkdir(join(store, 'layer-digests'));
  await writeFile(join(store, 'layer-digests', 'old.json'), JSON.stringify({ digest: v1.layer, size: 1 }));
  await writeFile(join(store, 'layer-digests', 'cur.json'), JSON.stringify({ digest: v3.layer, size: 1 }));
  const named = 'a'.repeat(64);
  const unnamed = 'b'.repeat(64);
  await mkdir(join(store, 'sources', 'sha256'), { recursive: true });
  await mkdir(join(store, 'sources', 'partial'), { recursive: true });
  await writeFile(join(store, 'sources', 'sha256', named), 'src');
  await writeFile(join(store, 'sources', 'sha256', unnamed), 'old src');
  await writeFile(join(store, 'sources', 'partial', `${unnamed}.part`), 'half');
  await writeFile(join(root, 'nx.json'), '{}');
  await mkdir(join(root, 'assets', 'a'), { recursive: true });
  await writeFile(
    join(root, 'assets', 'a', 'asset.json'),
    JSON.stringify({ image: 'asset/a', sources: [{ url: 'https://example.com/x', sha256: named, path: 'x.bin' }] }),
  );
  await mkdir(join(root, 'dist', 'asset-images', 'assets-a'), { recursive: true });
  await writeFile(join(root, 'dist', 'asset-images', 'assets-a', 'image.json'), JSON.stringify({ manifestDigest: v3.manifest }));
  const blob = (digest: string) => join(blobs, digest.slice('sha256:'.length));
  return { store, blobs, blob, v1, v2, v3, shared, named, unnamed };
}

describe('runStoreGc on a store', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'nxai-gc-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });
  const env = {};

  it('dry run counts and removes nothing; gc keeps the current build and the history, removes the rest', async () => {
    const f = await fixture(root);
    const dry = await runStoreGc({ workspaceRoot: root, history: 1, dryRun: true, docker: false, env });
    expect(dry.ran && dry.report.freed.blobs.count).toBe(4); // v1's manifest, config and layer, the symlink
    expect(existsSync(f.blob(f.v1.manifest))).toBe(true);

    const done = await runStoreGc({ workspaceRoot: root, history: 1, docker: false, env });
    if (!done.ran) throw new Error('gc did not run');
    expect(done.report.freed).toMatchObject({
      blobs: { count: 4 },
      'index entries': { count: 1 },
      'layer digests': { count: 1 },
      sources: { count: 1 },
      'partial downloads': { count: 1 },
    });
    for (const d of [f.v1.manifest, f.v1.config, f.v1.layer]) expect(existsSync(f.blob(d))).toBe(false);
    for (const v of [f.v2, f.v3]) for (const d of Object.values(v)) expect(existsSync(f.blob(d))).toBe(true);
    expect(existsSync(f.blob(f.shared))).toBe(true);
    await expect(lstat(join(f.blobs, hex('link')))).rejects.toThrow();
    expect(await readFile(join(root, 'outside.txt'), 'utf8')).toBe('precious');
    const index = JSON.parse(await readFile(join(f.store, 'oci', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest)).toEqual([f.v2.manifest, f.v3.manifest]);
    expect(existsSync(join(f.store, 'layer-digests', 'cur.json'))).toBe(true);
    expect(existsSync(join(f.store, 'sources', 'sha256', f.named))).toBe(true);
    expect(existsSync(join(f.store, 'sources', 'sha256', f.unnamed))).toBe(false);
  });

  it("removes the stat cache of an asset that is gone and keeps a live asset's", async () => {
    await fixture(root);
    const dir = statCacheDirOf(join(root, '.asset-images'));
    await mkdir(dir, { recursive: true });
    const live = statCacheFileOf(dir, join(root, 'assets', 'a'));
    const gone = statCacheFileOf(dir, join(root, 'assets', 'deleted'));
    await writeFile(live, '{}');
    await writeFile(gone, '{"gone":true}');
    const done = await runStoreGc({ workspaceRoot: root, history: 1, docker: false, env });
    expect(done.ran && done.report.freed['stat caches']).toEqual({ count: 1, bytes: 13 });
    expect(existsSync(live)).toBe(true);
    expect(existsSync(gone)).toBe(false);
  });

  it('a build pinned by digest in a Dockerfile is kept', async () => {
    const f = await fixture(root);
    await mkdir(join(root, 'apps', 'web'), { recursive: true });
    await writeFile(join(root, 'apps', 'web', 'Dockerfile'), `FROM busybox\nCOPY --from=asset/a@${f.v1.manifest} / /assets/\n`);
    await runStoreGc({ workspaceRoot: root, history: 0, docker: false, env });
    for (const d of Object.values(f.v1)) expect(existsSync(f.blob(d))).toBe(true);
    expect(existsSync(f.blob(f.v2.manifest))).toBe(false);
  });

  it('builds pinned through an ARG default and in a COPY with several flags over continuation lines are kept', async () => {
    const f = await fixture(root);
    await mkdir(join(root, 'apps', 'web'), { recursive: true });
    await writeFile(
      join(root, 'apps', 'web', 'Dockerfile'),
      `FROM busybox\nARG WEIGHTS=asset/a@${f.v1.manifest}\nCOPY --chown=1000:1000 --link --from=\${WEIGHTS} / /assets/\n`,
    );
    await writeFile(
      join(root, 'apps', 'web', 'api.Dockerfile'),
      `FROM busybox\nCOPY --link \\\n  --chmod=644 --from=asset/a@${f.v2.manifest} \\\n  / /assets/\n`,
    );
    await runStoreGc({ workspaceRoot: root, history: 0, docker: false, env });
    for (const v of [f.v1, f.v2, f.v3]) for (const d of Object.values(v)) expect(existsSync(f.blob(d))).toBe(true);
  });

  it('a sources cache outside the store (NX_ASSET_IMAGES_CACHE_DIR, maybe shared) is left alone', async () => {
    const f = await fixture(root);
    const done = await runStoreGc({
      workspaceRoot: root,
      history: 0,
      docker: false,
      env: { NX_ASSET_IMAGES_CACHE_DIR: join(f.store, '..', 'shared-sources') },
    });
    expect(done.ran && done.report.freed.sources.count).toBe(0);
    expect(existsSync(join(f.store, 'sources', 'sha256', f.unnamed))).toBe(true);
    // history 0: only the current build stays
    expect(existsSync(f.blob(f.v2.manifest))).toBe(false);
    expect(existsSync(f.blob(f.v3.manifest))).toBe(true);
  });
});
