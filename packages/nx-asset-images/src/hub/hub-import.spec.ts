// importHubRevision against the loopback Hub stand-in (__fixtures__/fake-hub.ts): listing, pages, pinning, the cache, errors.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex, startFakeHub, type FakeHub } from './__fixtures__/fake-hub';
import { createHubClient } from './hub-client';
import { resolveUrl } from './hub-endpoint';
import { HubError, type HubFailure } from './hub-errors';
import { importHubRevision } from './hub-import';
import { parseHubRef } from './hub-ref';

const V1 = '1'.repeat(40);
const V2 = '2'.repeat(40);
const weights = Buffer.alloc(3000, 7);
const config = Buffer.from('{"hidden_size": 8}\n');
const files = [
  { path: '.gitattributes', bytes: Buffer.from('*.safetensors filter=lfs\n') },
  { path: 'config.json', bytes: config },
  { path: 'model.safetensors', bytes: weights, lfs: true },
  { path: 'tokenizer/vocab.txt', bytes: Buffer.from('a\nb\n') },
  { path: 'tokenizer/merges.txt', bytes: Buffer.from('a b\n') },
];

describe('importHubRevision', () => {
  let hub: FakeHub;
  let cacheDir: string;
  let failing = 0;
  const env = () => ({ HF_ENDPOINT: hub.endpoint });
  const run = (from: string, extra: { env?: NodeJS.ProcessEnv; include?: string[] } = {}) =>
    importHubRevision({
      ref: parseHubRef(from),
      selection: { include: extra.include ?? [], exclude: [] },
      cacheDir,
      env: extra.env ?? env(),
      retry: { attempts: 2, baseDelayMs: 1 },
    });

  beforeAll(async () => {
    hub = await startFakeHub({
      pageSize: 2,
      repos: {
        'org/model': { refs: { main: V2, v1: V1 }, commits: { [V1]: files.slice(0, 3), [V2]: files } },
        'org/gated': { refs: { main: V1 }, commits: { [V1]: files.slice(1, 2) }, token: 'hf_secret' },
        'org/down': { refs: { main: V1 }, commits: { [V1]: files.slice(1, 2) } },
      },
      fault: (request) => (request.path.startsWith('/api/models/org/down/') && failing-- > 0 ? 503 : undefined),
    });
  });
  afterAll(() => hub.close());
  beforeEach(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'nxai-hub-'));
    hub.requests.length = 0;
    return () => rmSync(cacheDir, { recursive: true, force: true });
  });

  it('pins every selected file to the commit main names, over every page; LFS from the listing, small files cached', async () => {
    const result = await run('hf://org/model');
    expect(result.commit).toBe(V2);
    expect(result.listed).toBe(5);
    expect(result.sources).toEqual(
      files
        .slice(1)
        .map((f) => ({
          url: resolveUrl(hub.endpoint, 'org/model', V2, f.path),
          sha256: sha256Hex(f.bytes),
          size: f.bytes.length,
          path: f.path,
        }))
        .sort((a, b) => (a.path < b.path ? -1 : 1)),
    );
    expect(result.totalSize).toBe(files.slice(1).reduce((sum, f) => sum + f.bytes.length, 0));
    // 5 files and 1 folder, 2 entries a page: 3 pages, each page after the first through its Link.
    expect(
      hub.requests.filter((r) => r.path.includes('/tree/')).map((r) => new URL(r.path, hub.endpoint).searchParams.get('cursor')),
    ).toEqual([null, '2', '4']);
    // The LFS file is never downloaded; each small file once, and it is in the cache.
    expect(hub.requests.filter((r) => r.server === 'cdn' || r.path.includes('model.safetensors'))).toEqual([]);
    expect(hub.requests.filter((r) => r.path.includes('/resolve/')).length).toBe(3);
    expect(readFileSync(join(cacheDir, 'sha256', sha256Hex(config)))).toEqual(config);
    expect(existsSync(join(cacheDir, 'sha256', sha256Hex(weights)))).toBe(false);
  });

  it('takes a revision given after @, and only what --include selects', async () => {
    const result = await run('hf://org/model@v1', { include: ['*.json'] });
    expect(result.commit).toBe(V1);
    expect(result.sources.map((s) => s.path)).toEqual(['config.json']);
  });

  it('sends the token to a gated repo; the CDN a download is redirected to gets none', async () => {
    const withToken = { ...env(), HF_TOKEN: 'hf_secret' };
    expect((await run('hf://org/gated', { env: withToken })).sources).toHaveLength(1);
    const client = createHubClient({
      ref: parseHubRef('hf://org/model'),
      endpoint: hub.endpoint,
      token: 'hf_secret',
      tokenVariables: ['HF_TOKEN'],
    });
    try {
      expect(await client.download(resolveUrl(hub.endpoint, 'org/model', V2, 'model.safetensors'))).toEqual(weights);
    } finally {
      client.close();
    }
    const seen = hub.requests.filter((r) => r.path.includes('safetensors') || r.server === 'cdn');
    expect(seen.map((r) => [r.server, r.authorization])).toEqual([
      ['hub', 'Bearer hf_secret'],
      ['cdn', undefined],
    ]);
  });

  it.each<[string, string, NodeJS.ProcessEnv, HubFailure, RegExp]>([
    ['an unknown repo', 'hf://org/none', {}, 'repo-not-found', /^hf:\/\/org\/none@main: no repository org\/none/],
    [
      'an unknown revision',
      'hf://org/model@v9',
      {},
      'revision-not-found',
      /^hf:\/\/org\/model@v9: org\/model has no revision "v9" \(HTTP 404\)/,
    ],
    [
      'a gated repo without a token',
      'hf://org/gated',
      {},
      'token-required',
      /^hf:\/\/org\/gated@main: .*Set HF_TOKEN or NX_ASSET_IMAGES_TOKEN_127_0_0_1/,
    ],
    [
      'a gated repo with a wrong token',
      'hf://org/gated',
      { HF_TOKEN: 'hf_wrong' },
      'no-access',
      /may not read this gated or private repository \(HTTP 403\)/,
    ],
  ])('%s fails naming the repo, the revision and what to do', async (_name, from, extra, failure, message) => {
    const error = await run(from, { env: { ...env(), ...extra } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HubError);
    expect(error).toMatchObject({ failure });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('hf_wrong');
  });

  it('a 503 that stays after the retries is "unavailable"; one that goes away is retried', async () => {
    failing = 1;
    expect((await run('hf://org/down')).commit).toBe(V1);
    failing = 100;
    const error = await run('hf://org/down').catch((e: unknown) => e);
    expect(error).toMatchObject({ failure: 'unavailable', status: 503 });
    expect((error as Error).message).toMatch(/^hf:\/\/org\/down@main: the Hub did not answer \(HTTP 503\) after the retries/);
    failing = 0;
  });
});
