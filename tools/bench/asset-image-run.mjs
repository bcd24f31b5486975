#!/usr/bin/env node
// Child process of tools/bench/asset-image.mjs: builds one asset image with the
// built plugin (packages/nx-asset-images/dist) and prints one JSON line of timings.
//
//   node asset-image-run.mjs task   <workspaceRoot> <manifest> <ociLayout:true|false> <load:true|false>
//   node asset-image-run.mjs phases <workspaceRoot> <manifest> <ociLayout:true|false> <load:true|false>
//   node asset-image-run.mjs streamed <workspaceRoot> <manifest> false true
//   node asset-image-run.mjs key    <workspaceRoot> <projectRoot>
//
// `task` calls the executor's exported buildAssetImageTask (what `nx run` runs).
// `phases` does the same steps as the executor, one by one, timing each:
// stat cache load, analyze (file walk + hashing), lock, image assembly, OCI
// layout write, docker load, stat cache save. `key` times the runtime input.
// The store is the workspace's `.asset-images` unless NX_ASSET_IMAGES_STORE is set.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const dist =
  process.env.BENCH_PLUGIN_DIST ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'nx-asset-images', 'dist');
const [mode, workspaceRoot, arg, layoutArg, loadArg] = process.argv.slice(2);

const now = () => Number(process.hrtime.bigint()) / 1e9;
const t0 = now();
const out = { mode, phases: {} };
const phase = async (name, fn) => {
  const start = now();
  try {
    return await fn();
  } finally {
    out.phases[name] = now() - start;
  }
};

// Quiet the executor's logger (progress bars, info lines) so stdout carries only our JSON line.
const devkit = require(join(workspaceRoot, 'node_modules', '@nx', 'devkit'));
devkit.logger.info = () => {};
devkit.logger.log = () => {};
process.env.CI = process.env.CI ?? 'false';

if (mode === 'task') {
  const { buildAssetImageTask } = require(join(dist, 'executors/asset-image/executor.js'));
  out.loadedSeconds = now() - t0; // node is up and the executor's modules are loaded
  await buildAssetImageTask(
    { manifest: arg, outputPath: 'dist/asset-images/bench', ociLayout: layoutArg === 'true', load: loadArg === 'true' },
    workspaceRoot,
  );
} else if (mode === 'phases') {
  const { parseAssetManifest } = require(join(dist, 'manifest/manifest.js'));
  const { assetStorePaths } = require(join(dist, 'asset/asset-store.js'));
  const { StatCache } = require(join(dist, 'hashing/stat-cache.js'));
  const { analyzeAsset } = require(join(dist, 'asset/analyze-asset.js'));
  const { reconcileAssetLock } = require(join(dist, 'lock/lock-check.js'));
  const { buildAssetImage } = require(join(dist, 'assembly/build-asset-image.js'));
  const { LayerDigestCache } = require(join(dist, 'assembly/layer-digest-cache.js'));
  const { assetReferences } = require(join(dist, 'asset/image-references.js'));
  const { writeOciLayout } = require(join(dist, 'transports/oci-layout.js'));
  const { dockerLoad } = require(join(dist, 'transports/docker-load.js'));
  const manifest = parseAssetManifest(readFileSync(join(workspaceRoot, arg), 'utf8'), arg, posix.dirname(arg));
  const store = assetStorePaths(workspaceRoot);
  const cache = await phase('statCacheLoad', () => StatCache.load(store.statCache, join(workspaceRoot, manifest.projectRoot)));
  const analysis = await phase('analyze+hash', () => analyzeAsset(manifest, { workspaceRoot, store, cache, mtime: 0, sources: 'fetch' }));
  await phase('statCacheSave', () => cache.save());
  await phase('lock', () => reconcileAssetLock(workspaceRoot, manifest.projectRoot, analysis.lock, false));
  const image = await phase('assemble', () =>
    buildAssetImage(analysis, {
      mtime: 0,
      platform: { os: 'linux', architecture: 'amd64' },
      layerDigests: new LayerDigestCache(join(store.root, 'layer-digests')),
    }),
  );
  const refs = assetReferences(manifest.image, manifest.tags, image.manifest.descriptor.digest);
  if (layoutArg === 'true') await phase('ociLayoutWrite', () => writeOciLayout(store.ociLayout, image, { refNames: refs.references }));
  if (loadArg === 'true') await phase('dockerLoad', () => dockerLoad(image, refs.references));
  out.digest = image.manifest.descriptor.digest;
} else if (mode === 'streamed') {
  // Issue 29: the same steps with the load streamed while the files are read (StreamedLoadPass): the hash pass
  // carries the layers into docker load, the rest ends it with the config and manifest.json.
  const { parseAssetManifest } = require(join(dist, 'manifest/manifest.js'));
  const { assetStorePaths } = require(join(dist, 'asset/asset-store.js'));
  const { StatCache } = require(join(dist, 'hashing/stat-cache.js'));
  const { analyzeAsset } = require(join(dist, 'asset/analyze-asset.js'));
  const { reconcileAssetLock } = require(join(dist, 'lock/lock-check.js'));
  const { buildAssetImage } = require(join(dist, 'assembly/build-asset-image.js'));
  const { LayerDigestCache } = require(join(dist, 'assembly/layer-digest-cache.js'));
  const { assetReferences } = require(join(dist, 'asset/image-references.js'));
  const { StreamedLoadPass } = require(join(dist, 'asset-image/streamed-load.js'));
  const manifest = parseAssetManifest(readFileSync(join(workspaceRoot, arg), 'utf8'), arg, posix.dirname(arg));
  const store = assetStorePaths(workspaceRoot);
  const layerDigests = new LayerDigestCache(join(store.root, 'layer-digests'));
  const pass = new StreamedLoadPass({ mtime: 0, layerDigests, allowed: true });
  const cache = await phase('statCacheLoad', () => StatCache.load(store.statCache, join(workspaceRoot, manifest.projectRoot)));
  const analysis = await phase('analyze+hash+stream', () =>
    analyzeAsset(manifest, { workspaceRoot, store, cache, mtime: 0, sources: 'fetch', hashPass: pass.hashPass }),
  );
  out.streamed = pass.streaming;
  await phase('statCacheSave', () => cache.save());
  await phase('lock', () => reconcileAssetLock(workspaceRoot, manifest.projectRoot, analysis.lock, false));
  const image = await phase('assemble', () =>
    buildAssetImage(analysis, { mtime: 0, platform: { os: 'linux', architecture: 'amd64' }, layerDigests }),
  );
  const refs = assetReferences(manifest.image, manifest.tags, image.manifest.descriptor.digest);
  await phase('dockerLoadFinish', () => pass.finish(image, refs.references));
  out.digest = image.manifest.descriptor.digest;
} else if (mode === 'key') {
  const { contentKeyLine } = require(join(dist, 'content-index/content-key-line.js'));
  out.key = await phase('contentKey', () => contentKeyLine(workspaceRoot, arg));
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
out.inProcessSeconds = now() - t0;
if (out.loadedSeconds !== undefined) out.workSeconds = out.inProcessSeconds - out.loadedSeconds;
process.stdout.write(`${JSON.stringify(out)}\n`);
