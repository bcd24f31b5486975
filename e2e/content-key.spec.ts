// The asset-image target's content key (a runtime input) when its script fails: Nx hashes what the input prints and
// ignores its exit code, so a script that cannot start printed the same error on every run, and a build made after
// that failure was served again from the cache after the weight changed (measured in a pnpm workspace: "Cannot find
// module", then `[local cache]` with the old digest). Here the plugin is a copy in the workspace's node_modules, as
// npm or pnpm installs it, and its key script is removed mid-test: no run whose key comes from the script is a cache
// hit, and a changed weight is built. The content index hook (preTasksExecution) still serves unchanged assets.
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResult } from './support/asset-image-result';
import { createWorkspace, pluginDir, repoRoot, runNx, type Workspace } from './support/workspace';

const CACHE_HIT = /local cache|existing outputs match the cache/;

describe('content key: a failing key is never a cache hit', () => {
  let ws: Workspace;

  beforeAll(async () => {
    ws = await createWorkspace(
      {
        '.gitignore': 'dist\n.asset-images\n*.bin\n',
        'assets/m/asset.json': `${JSON.stringify({ name: 'm', image: 'localhost:5000/nxai-e2e/key', tags: ['1'] }, null, 2)}\n`,
        'assets/m/vocab.txt': 'a\nb\n',
      },
      { linkNodeModules: false },
    );
    // node_modules: this repository's packages linked, the plugin copied (so its files can be taken away).
    const nm = ws.path('node_modules');
    await mkdir(nm, { recursive: true });
    for (const name of readdirSync(path.join(repoRoot, 'node_modules'))) {
      if (name !== 'nx-asset-images' && !name.startsWith('.'))
        symlinkSync(path.join(repoRoot, 'node_modules', name), path.join(nm, name), 'dir');
    }
    cpSync(pluginDir, path.join(nm, 'nx-asset-images'), { recursive: true });
    await ws.write('assets/m/weights.bin', Buffer.alloc(300_000, 1));
    // Past the racy window (2 s): files written this close to a scan get no content index row.
    await new Promise((resolve) => setTimeout(resolve, 2100));
  });
  afterAll(async () => {
    await ws?.dispose();
  });

  const build = () => runNx(ws, ['run', 'm:asset-image', '--load=false']);

  it('with the key script: the build takes its analysis; the second run is a cache hit (the control)', async () => {
    const first = (await build()).stdout;
    expect(first).not.toMatch(CACHE_HIT);
    // The key script analyzed the asset just before the task: the build took that analysis (analysis-handover.ts).
    expect(first).toContain('m: 2 file(s) as the content key analyzed them just before');
    expect((await build()).stdout).toMatch(CACHE_HIT);
  });

  it('without it, the index hook on: the unchanged asset still hits (the hook has its key); a changed weight fails twice, never a hit', async () => {
    rmSync(ws.path('node_modules/nx-asset-images/dist/bin/asset-content-key.js'));
    const before = readResult(ws, 'm').manifestDigest;
    expect((await build()).stdout).toMatch(CACHE_HIT);
    // A changed asset is left to the runtime input's script by the hook: it cannot start, so every run is new.
    await ws.write('assets/m/weights.bin', Buffer.alloc(300_000, 2));
    expect((await build()).stdout).not.toMatch(CACHE_HIT);
    expect((await build()).stdout).not.toMatch(CACHE_HIT);
    expect(readResult(ws, 'm').manifestDigest).not.toBe(before);
  });

  it('without it, the index hook off (as on an agent where it does not run), a stale key folder inherited: no run is a hit, and a changed weight is built', async () => {
    // Also a key folder inherited from outside (as from an outer nx) with a stale line for this asset: the hook
    // empties the variable even when it is off.
    const stale = ws.path('stale-keys');
    await ws.write(
      `stale-keys/${createHash('sha256').update('assets/m').digest('hex').slice(0, 16)}`,
      'nx-asset-images@0.1.0 content sha256:stale\n',
    );
    const off = { env: { NX_ASSET_IMAGES_CONTENT_INDEX: 'off', NX_ASSET_IMAGES_KEYS: stale } };
    const before = readResult(ws, 'm').manifestDigest;
    expect((await runNx(ws, ['run', 'm:asset-image', '--load=false'], off)).stdout).not.toMatch(CACHE_HIT);
    expect((await runNx(ws, ['run', 'm:asset-image', '--load=false'], off)).stdout).not.toMatch(CACHE_HIT);
    await ws.write('assets/m/weights.bin', Buffer.alloc(300_000, 3));
    expect((await runNx(ws, ['run', 'm:asset-image', '--load=false'], off)).stdout).not.toMatch(CACHE_HIT);
    expect(readResult(ws, 'm').manifestDigest).not.toBe(before);
  });
});
