// The content index (issue 28): Nx's preTasksExecution hook sets each unchanged asset's key, and the runtime input
// prints it with a shell builtin; a changed asset's key comes from the key script. Through real nx, daemon off and on:
// Nx 24 (the repository's line) with every change the key must see, and Nx 22 and 23 with the packed plugin as users
// install it (npm i --offline from the cache tools/prepare-nx-versions.mjs fills) with a subset. Each change must be a
// cache miss, the run after it a hit; with the daemon on, also a change made while the daemon was stopped. The first
// change of each pass meets a saved index row (the hook's own check); later ones may meet none (racy writes) and are
// keyed by the script.
// The asset-image target runs with load: false (targetDefaults): this is about the key, not Docker.
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashStats } from './support/hash-stats';
import { npmInstallOffline, packPlugin, type PackedPlugin } from './support/packed-plugin';
import { createWorkspace, repoRoot, runNx, type Workspace } from './support/workspace';

const CACHE_HIT = /local cache|existing outputs match the cache/;
const WEIGHT = Buffer.alloc(200_000, 255);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const pointer = (data: Buffer) => `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(data)}\nsize ${data.length}\n`;

type Change = [name: string, apply: (ws: Workspace) => Promise<void>, outcome: 'miss' | 'hit'];

const sameSizeEdit: Change = [
  'a same-size edit with the old mtime put back',
  async (ws) => {
    const file = ws.path('assets/m/vocab.txt');
    const { atime, mtime } = statSync(file);
    const text = readFileSync(file, 'utf8');
    await ws.write('assets/m/vocab.txt', text.endsWith('a\n') ? `${text.slice(0, -2)}b\n` : `${text.slice(0, -2)}a\n`);
    utimesSync(file, atime, mtime);
  },
  'miss',
];
let added = 0;
let deleted = 0;
const newFile: Change = ['a new file', (ws) => ws.write(`assets/m/sub/new-${++added}.txt`, 'new\n'), 'miss'];
const modeChange: Change = [
  'a mode change',
  async (ws) => chmodSync(ws.path('assets/m/vocab.txt'), (statSync(ws.path('assets/m/vocab.txt')).mode & 0o100) === 0 ? 0o755 : 0o644),
  'miss',
];
const ALL_CHANGES: Change[] = [
  sameSizeEdit,
  newFile,
  // A file there from the start (one per pass): deleting the file just added would give back a state Nx has cached.
  ['a deleted file', async (ws) => rmSync(ws.path(`assets/m/del-${deleted++}.txt`)), 'miss'],
  [
    'a renamed file',
    async (ws) => {
      const name = readdirSync(ws.path('assets/m')).find((file) => /^config.*\.json$/.test(file))!;
      renameSync(ws.path('assets/m', name), ws.path(`assets/m/config-${++added}.json`));
    },
    'miss',
  ],
  modeChange,
  // What a clone whose Git LFS left the pointer has: the same content, so the same key (the lock pins it).
  [
    'the weight swapped for its Git LFS pointer (same content)',
    (ws) => ws.write('assets/m/weights.bin', pointer(readFileSync(ws.path('assets/m/weights.bin')))),
    'hit',
  ],
  ['the pointer swapped for a weight of other content', (ws) => ws.write('assets/m/weights.bin', Buffer.alloc(200_000, ++added)), 'miss'],
];

const files = {
  '.gitignore': 'dist\n.asset-images\n*.bin\n',
  'nx.json': `${JSON.stringify(
    { plugins: [{ plugin: 'nx-asset-images', options: {} }], targetDefaults: { 'asset-image': { options: { load: false } } } },
    null,
    2,
  )}\n`,
  'assets/m/asset.json': `${JSON.stringify({ name: 'm', image: 'localhost:5000/nxai-e2e/index', tags: ['1'] }, null, 2)}\n`,
  'assets/m/vocab.txt': 'a\nb\n',
  'assets/m/config.json': '{}\n',
  'assets/m/del-0.txt': 'zero\n',
  'assets/m/del-1.txt': 'one\n',
};

interface Line {
  name: string;
  packages?: Record<string, string>;
  changes: Change[];
}
const { lines } = JSON.parse(readFileSync(path.join(repoRoot, 'tools', 'nx-versions.json'), 'utf8')) as {
  lines: { name: string; packages: Record<string, string> }[];
};
const LINES: Line[] = [
  { name: 'nx24', changes: ALL_CHANGES },
  ...lines.map((line) => ({ ...line, changes: [sameSizeEdit, newFile, modeChange] })),
];

let packed: PackedPlugin | undefined;
afterAll(async () => {
  await packed?.dispose();
});

describe.each(LINES)('content index on $name', (line) => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await createWorkspace(files, { linkNodeModules: line.packages === undefined });
    if (line.packages) {
      packed ??= await packPlugin();
      await npmInstallOffline(ws, line.packages, [packed.tarball]);
    }
    await ws.write('assets/m/weights.bin', WEIGHT);
    // Past the racy window (2 s): files written this close to a scan get no index row.
    await new Promise((resolve) => setTimeout(resolve, 2100));
  });
  afterAll(async () => {
    await runNx(ws, ['daemon', '--stop'], { env: { NX_DAEMON: 'true' }, reject: false });
    await ws?.dispose();
  });

  describe.each([
    ['daemon off', 'false'],
    ['daemon on', 'true'],
  ])('%s', (_, daemon) => {
    const run = (env: Record<string, string> = {}) => runNx(ws, ['run', 'm:asset-image'], { env: { NX_DAEMON: daemon, ...env } });

    it('an unchanged asset is a cache hit answered by the index: no key script runs', async () => {
      // Past the racy window of the last pass's writes, so this run's key gets its row.
      await new Promise((resolve) => setTimeout(resolve, 2100));
      await run();
      const stats = ws.path(`hash-stats-${daemon}.jsonl`);
      expect((await run({ NX_ASSET_IMAGES_HASH_STATS: stats })).stdout).toMatch(CACHE_HIT);
      // The key script records a line each run (e2e/content-key.spec shows it runs when the hook is off): none ran.
      expect(hashStats(stats)).toEqual([]);
    });

    it.each(line.changes.map(([name, apply, outcome]) => ({ name, apply, outcome })))(
      '$name: a $outcome, then a hit',
      async ({ apply, outcome }) => {
        await apply(ws);
        const after = await run();
        if (outcome === 'miss') expect(after.stdout).not.toMatch(CACHE_HIT);
        else expect(after.stdout).toMatch(CACHE_HIT);
        expect((await run()).stdout).toMatch(CACHE_HIT);
      },
    );

    if (daemon === 'true') {
      it('a change made while the daemon is stopped is a miss after it restarts', async () => {
        await runNx(ws, ['daemon', '--stop'], { env: { NX_DAEMON: 'true' } });
        await sameSizeEdit[1](ws);
        expect((await run()).stdout).not.toMatch(CACHE_HIT);
        expect((await run()).stdout).toMatch(CACHE_HIT);
      });
    }
  });
});
