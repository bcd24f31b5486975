// The Nx remote cache stand-in (e2e/support/nx-cache-server.ts) against Nx's
// real client: a hosted cache cannot run here, so this checks that the server
// implements the contract as Nx uses it before other tests rely on it. A
// cacheable target on one "machine" is stored (PUT), and a second workspace
// with an empty local cache gets it back (GET) as a remote cache hit.
// (runNx gives each workspace its own NX_CACHE_DIRECTORY.)
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNxCacheServer, type NxCacheServer } from './support/nx-cache-server';
import { createWorkspace, runNx, type Workspace } from './support/workspace';

const files = {
  'nx.json': `${JSON.stringify({ plugins: [] }, null, 2)}\n`,
  'libs/a/project.json': `${JSON.stringify({
    name: 'a',
    root: 'libs/a',
    targets: {
      make: {
        executor: 'nx:run-commands',
        cache: true,
        inputs: ['{projectRoot}/in.txt'],
        outputs: ['{workspaceRoot}/dist/a'],
        options: { command: 'mkdir -p dist/a && cat libs/a/in.txt > dist/a/out.txt && echo ran-the-command' },
      },
    },
  })}\n`,
  'libs/a/in.txt': 'input one\n',
};

describe('Nx remote cache stand-in', () => {
  let cache: NxCacheServer;
  const workspaces: Workspace[] = [];
  beforeAll(async () => {
    cache = await startNxCacheServer({ token: 'rw-token', readOnlyToken: 'ro-token' });
  });
  afterAll(async () => {
    await cache.close();
    for (const ws of workspaces) await rm(ws.root, { recursive: true, force: true });
  });

  it('stores a task on one machine and serves it to another as a remote hit', async () => {
    const first = await createWorkspace(files);
    const second = await createWorkspace(files);
    workspaces.push(first, second);
    const built = await runNx(first, ['run', 'a:make'], { env: cache.env() });
    expect(built.stdout).toContain('ran-the-command');
    const puts = cache.log.filter((l) => l.startsWith('PUT ') && l.endsWith(' 200'));
    expect(puts).toHaveLength(1);
    const hash = puts[0]!.split(' ')[1]!;
    expect(cache.entries.get(hash)?.length).toBeGreaterThan(0);

    const hit = await runNx(second, ['run', 'a:make'], { env: cache.env() });
    expect(hit.stdout).toContain('remote cache');
    expect(cache.log).toContain(`GET ${hash} 200`);
    expect(await second.read('dist/a/out.txt')).toBe('input one\n');
  });

  it('a read-only token gets hits but stores nothing; an existing key is not overwritten (409)', async () => {
    const ws = await createWorkspace({ ...files, 'libs/a/in.txt': 'input two\n' });
    workspaces.push(ws);
    const env = cache.env();
    const before = cache.entries.size;
    await runNx(ws, ['run', 'a:make'], { env: { ...env, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: 'ro-token' } });
    expect(cache.log.at(-1)).toMatch(/^PUT \S+ 403$/);
    expect(cache.entries.size).toBe(before);
    const hash = cache.log.at(-1)!.split(' ')[1]!;
    // Stored now with the read-write token; a store of the same hash from a second empty cache is refused with 409 and leaves the entry.
    await rm(ws.path('.nx/cache'), { recursive: true, force: true });
    await runNx(ws, ['run', 'a:make'], { env });
    expect(cache.log.at(-1)).toBe(`PUT ${hash} 200`);
    const stored = cache.entries.get(hash)!;
    expect(stored.length).toBeGreaterThan(0);
    const overwrite = await fetch(`${cache.url}/v1/cache/${hash}`, {
      method: 'PUT',
      headers: { authorization: 'Bearer rw-token' },
      body: 'other bytes',
    });
    expect(overwrite.status).toBe(409);
    expect(cache.entries.get(hash)).toBe(stored);
    const anonymous = await fetch(`${cache.url}/v1/cache/${hash}`);
    expect(anonymous.status).toBe(401);
  });
});
