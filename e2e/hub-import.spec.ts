// `nx g nx-asset-images:asset --from=hf://...` end to end: real nx in a temporary workspace, and a loopback
// STAND-IN for the Hugging Face Hub (packages/nx-asset-images/src/hub/__fixtures__/fake-hub.ts): two local servers
// implementing the Hub's published HTTP contract as huggingface_hub uses it (revision and paginated tree listings,
// `resolve` with X-Repo-Commit / X-Linked-Etag, a 302 to a second "CDN" server for LFS files), not the Hub itself.
// Every nx run goes through a loopback forward proxy (HTTP_PROXY) that logs what passes.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, startFakeHub, type FakeHub, type FakeHubFile } from '../packages/nx-asset-images/src/hub/__fixtures__/fake-hub';
import { startLoggingProxy, type LoggingProxy } from '../packages/nx-asset-images/src/http/__fixtures__/logging-proxy';
import { readOciLayoutImage } from '../packages/nx-asset-images/src/transports/oci-layout';
import { readResult } from './support/asset-image-result';
import { imageFiles } from './support/image-files';
import { servicesEnv } from './support/services';
import { createWorkspace, runNx, type Workspace } from './support/workspace';

const V1 = '1a'.repeat(20);
const V2 = '2b'.repeat(20);
const TOKEN = 'hf_e2e_not_a_real_token';

describe('asset --from=hf:// against a Hub stand-in, through a logging proxy', () => {
  const weights1 = randomBytes(256 * 1024);
  const weights2 = randomBytes(256 * 1024);
  const v1: FakeHubFile[] = [
    { path: '.gitattributes', bytes: Buffer.from('*.safetensors filter=lfs diff=lfs merge=lfs -text\n') },
    { path: 'README.md', bytes: Buffer.from('# tiny model\n') },
    { path: 'config.json', bytes: Buffer.from('{"hidden_size": 8}\n') },
    { path: 'model.safetensors', bytes: weights1, lfs: true },
    { path: 'onnx/model.safetensors', bytes: randomBytes(1024), lfs: true },
    { path: 'tokenizer/tokenizer.json', bytes: Buffer.from('{"vocab": ["a", "b"]}\n') },
    { path: 'tokenizer/tokenizer_config.json', bytes: Buffer.from('{"lower": true}\n') },
  ];
  const v2 = v1.map((f) => (f.path === 'model.safetensors' ? { ...f, bytes: weights2 } : f));
  let hub: FakeHub;
  let proxy: LoggingProxy;
  let ws: Workspace;
  let env: Record<string, string | undefined>;
  const registry = servicesEnv().NXAI_REGISTRY;
  const IMAGE = `${registry}/asset/hub-${randomBytes(3).toString('hex')}`;
  const select = ['--include=*.safetensors,tokenizer/*', '--exclude=onnx/**'];
  const manifest = (dir: string) => JSON.parse(readFileSync(ws.path(dir, 'asset.json'), 'utf8'));

  beforeAll(async () => {
    hub = await startFakeHub({
      pageSize: 3,
      repos: {
        'org/tiny-model': { refs: { main: V2, v1: V1 }, commits: { [V1]: v1, [V2]: v2 } },
        'org/gated-model': { refs: { main: V1 }, commits: { [V1]: v1.slice(2, 3) }, token: TOKEN },
      },
    });
    proxy = await startLoggingProxy();
    env = { HF_ENDPOINT: hub.endpoint, HTTP_PROXY: proxy.url, NO_PROXY: undefined, no_proxy: undefined, HF_TOKEN: undefined };
    ws = await createWorkspace({ '.gitignore': 'dist\n.asset-images\n' });
  });
  afterAll(async () => {
    await hub?.close();
    await proxy?.close();
    await ws?.dispose();
  });

  it('imports the selected files of a revision of more than one page, each pinned to its commit', async () => {
    const run = await runNx(
      ws,
      ['g', 'nx-asset-images:asset', 'bert', `--image=${IMAGE}`, '--tags=1.0', '--from=hf://org/tiny-model@v1', ...select],
      { env },
    );
    expect(run.stdout).toContain(`hf://org/tiny-model@v1 is commit ${V1}`);
    const chosen = v1.filter((f) => ['model.safetensors', 'tokenizer/tokenizer.json', 'tokenizer/tokenizer_config.json'].includes(f.path));
    const total = chosen.reduce((sum, f) => sum + f.bytes.length, 0);
    expect(run.stdout).toContain(`3 files, 256.0 KiB (${total} bytes), pinned to that commit`);
    expect(manifest('assets/bert').sources).toEqual(
      chosen.map((f) => ({
        url: `${hub.endpoint}/org/tiny-model/resolve/${V1}/${f.path}`,
        sha256: sha256Hex(f.bytes),
        path: f.path,
        size: f.bytes.length,
      })),
    );
    // 7 files and 2 folders, 3 entries a page: three pages, the later ones through Link rel="next".
    const pages = hub.requests.filter((r) => r.path.startsWith('/api/models/org/tiny-model/tree/'));
    expect(pages.map((r) => new URL(r.path, hub.endpoint).searchParams.get('cursor'))).toEqual([null, '3', '6']);
    // No LFS download at import; each small file once, through the proxy.
    expect(hub.requests.filter((r) => r.server === 'cdn' || r.path.endsWith('.safetensors'))).toEqual([]);
    expect(proxy.log.filter((e) => e.target.includes('/resolve/')).map((e) => e.target.replace(/.*\//, ''))).toEqual(
      expect.arrayContaining(['tokenizer.json', 'tokenizer_config.json']),
    );
  });

  it('builds an image holding the served bytes; small files come from the cache, the CDN gets no Authorization', async () => {
    hub.requests.length = 0;
    proxy.log.length = 0;
    const buildEnv = { ...env, NX_ASSET_IMAGES_TOKEN_127_0_0_1: TOKEN };
    const run = await runNx(ws, ['run', 'bert:asset-image', '--load=false', '--ociLayout=true'], { env: buildEnv });
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
    const image = await readOciLayoutImage(ws.path('.asset-images/oci'), readResult(ws, 'bert').manifestDigest);
    const files = await imageFiles(image.layers);
    expect(Object.fromEntries(files)).toEqual({
      'model.safetensors': sha256Hex(weights1),
      'tokenizer/tokenizer.json': sha256Hex(v1[5]!.bytes),
      'tokenizer/tokenizer_config.json': sha256Hex(v1[6]!.bytes),
    });
    // Only the LFS file is fetched: the Hub with the token, then the CDN (another origin) without it.
    expect(hub.requests.map((r) => [r.server, r.path.replace(/\?.*/, ''), r.authorization])).toEqual([
      ['hub', `/org/tiny-model/resolve/${V1}/model.safetensors`, `Bearer ${TOKEN}`],
      ['cdn', `/lfs/${sha256Hex(weights1)}`, undefined],
    ]);
    expect(proxy.log.map((e) => [new URL(e.target).origin, e.authorization])).toEqual([
      [hub.endpoint, `Bearer ${TOKEN}`],
      [hub.cdn, undefined],
    ]);
  });

  it('pushes through the same proxy: the registry is reached through HTTP_PROXY too', async () => {
    proxy.log.length = 0;
    await runNx(ws, ['run', 'bert:asset-push'], { env });
    const targets = proxy.log.map((e) => new URL(e.target));
    expect(targets.some((url) => url.host === registry && url.pathname.startsWith('/v2/'))).toBe(true);
    expect(targets.every((url) => url.host === registry)).toBe(true);
  });

  it('a gated repo: without a token an error naming HF_TOKEN and nothing written; with HF_TOKEN the import', async () => {
    const args = ['g', 'nx-asset-images:asset', 'gated', `--image=${IMAGE}-gated`, '--from=hf://org/gated-model'];
    const refused = await runNx(ws, args, { env, reject: false });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(
      /hf:\/\/org\/gated-model@main: the repository is gated or private and no token is set \(HTTP 401\)\. Set HF_TOKEN/,
    );
    expect(existsSync(ws.path('assets/gated'))).toBe(false);

    const run = await runNx(ws, args, { env: { ...env, HF_TOKEN: TOKEN } });
    expect(run.stdout).toContain('1 file, ');
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
    expect(readFileSync(ws.path('assets/gated/asset.json'), 'utf8')).not.toContain(TOKEN);
    expect(manifest('assets/gated').sources.map((s: { path: string }) => s.path)).toEqual(['config.json']);
  });

  it('an unknown revision: an error naming the repo and revision, and nothing written', async () => {
    const run = await runNx(ws, ['g', 'nx-asset-images:asset', 'bert', '--from=hf://org/tiny-model@v9', ...select], { env, reject: false });
    expect(run.exitCode).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('hf://org/tiny-model@v9: org/tiny-model has no revision "v9" (HTTP 404)');
    expect(manifest('assets/bert').sources[0].url).toContain(`/resolve/${V1}/`);
  });

  it('again on the asset with a new revision: sources updated, other fields kept, changed files printed, tags warned about', async () => {
    const run = await runNx(ws, ['g', 'nx-asset-images:asset', 'bert', '--from=hf://org/tiny-model', ...select], { env });
    const output = run.stdout + run.stderr;
    expect(output).toContain(`hf://org/tiny-model@main is commit ${V2} (no revision given: took main)`);
    expect(output).toContain('changed: model.safetensors');
    expect(output).toMatch(/the content changes but the version tags 1\.0 stay the same; asset-push refuses/);
    const updated = manifest('assets/bert');
    expect(updated).toMatchObject({ name: 'bert', image: IMAGE, tags: ['1.0'] });
    expect(updated.sources.map((s: { url: string }) => s.url.split('/resolve/')[1])).toEqual(
      ['model.safetensors', 'tokenizer/tokenizer.json', 'tokenizer/tokenizer_config.json'].map((p) => `${V2}/${p}`),
    );
    expect(updated.sources[0].sha256).toBe(sha256Hex(weights2));
  });
});
