// Remote sources through the whole build: real nx, a loopback HTTP server the
// test starts, umoci reading the result. The image holds exactly what the server
// served, bytes that do not match the pinned sha256 never reach the cache or an
// image, and a filled cache builds with the server gone.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withUmociRootfs } from './support/umoci';
import { createWorkspace, runNx, type Workspace } from './support/workspace';
import { sha256 } from './support/sha256';
import { readResult } from './support/asset-image-result';

describe('remote sources pinned by sha256', () => {
  const files: Record<string, Buffer> = {
    '/org/model/resolve/abc123/model.safetensors': randomBytes(3 * 1024 * 1024 + 5),
    '/org/model/resolve/abc123/tokenizer.json': Buffer.from('{"vocab": ["a", "b"]}\n'),
  };
  const requests: string[] = [];
  let server: Server;
  let base: string;
  let ws: Workspace;

  function serve(): Promise<void> {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const body = req.url === '/tampered.bin' ? Buffer.from('not the pinned bytes') : files[req.url ?? ''];
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  }

  beforeAll(async () => {
    await serve();
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const model = files['/org/model/resolve/abc123/model.safetensors']!;
    const tokenizer = files['/org/model/resolve/abc123/tokenizer.json']!;
    ws = await createWorkspace({
      '.gitignore': 'dist\n.asset-images\n',
      'assets/hub/asset.json': JSON.stringify({
        image: 'localhost:5000/asset/hub',
        tags: ['1'],
        sources: [
          {
            url: `${base}/org/model/resolve/abc123/model.safetensors`,
            sha256: sha256(model),
            path: 'weights/model.safetensors',
            size: model.length,
          },
          { url: `${base}/org/model/resolve/abc123/tokenizer.json`, sha256: sha256(tokenizer), path: 'tokenizer.json' },
        ],
      }),
      'assets/hub/config.json': '{"hidden_size": 8}\n',
      'assets/bad/asset.json': JSON.stringify({
        image: 'localhost:5000/asset/bad',
        sources: [{ url: `${base}/tampered.bin`, sha256: 'ab'.repeat(32), path: 'w.bin' }],
      }),
    });
  });
  afterAll(async () => {
    server?.close();
    await ws?.dispose();
  });

  it('builds an asset of two remote files and one local file; the image holds exactly what the server served', async () => {
    await runNx(ws, ['run', 'assets-hub:asset-image', '--load=false', '--ociLayout=true']);
    expect(requests.filter((r) => r.startsWith('/org/'))).toHaveLength(2);
    const result = readResult(ws, 'assets-hub');
    expect(result.layers.flatMap((l: { files: string[] }) => l.files).sort()).toEqual([
      'config.json',
      'tokenizer.json',
      'weights/model.safetensors',
    ]);
    // the lock pins the local file only; the remote ones are pinned in asset.json
    expect(Object.keys(JSON.parse(readFileSync(ws.path('assets/hub/asset.lock.json'), 'utf8')).files)).toEqual(['config.json']);

    await withUmociRootfs(ws.path('.asset-images/oci'), 'localhost:5000/asset/hub:1', (rootfs) => {
      expect(sha256(readFileSync(path.join(rootfs, 'weights/model.safetensors')))).toBe(
        sha256(files['/org/model/resolve/abc123/model.safetensors']!),
      );
      expect(readFileSync(path.join(rootfs, 'tokenizer.json'))).toEqual(files['/org/model/resolve/abc123/tokenizer.json']);
      expect(readFileSync(path.join(rootfs, 'config.json'), 'utf8')).toBe('{"hidden_size": 8}\n');
    });
  });

  it('wrong bytes: a checksum error naming the URL and both checksums; nothing cached, no image', async () => {
    const run = await runNx(ws, ['run', 'assets-bad:asset-image', '--load=false'], { reject: false });
    expect(run.exitCode).not.toBe(0);
    const output = run.stdout + run.stderr;
    expect(output).toContain(`${base}/tampered.bin`);
    expect(output).toContain('ab'.repeat(32));
    expect(output).toContain(sha256('not the pinned bytes'));
    expect(existsSync(ws.path('.asset-images/sources/sha256', 'ab'.repeat(32)))).toBe(false);
    expect(existsSync(ws.path('dist/asset-images/assets-bad'))).toBe(false);
  });

  it('builds again from the cache with the server stopped, to the same digest', async () => {
    const before = readResult(ws, 'assets-hub').manifestDigest;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const seen = requests.length;
    const run = await runNx(ws, ['run', 'assets-hub:asset-image', '--load=false', '--skip-nx-cache']);
    expect(run.stdout).not.toMatch(/local cache/);
    expect(requests.length).toBe(seen);
    expect(readResult(ws, 'assets-hub').manifestDigest).toBe(before);
  });
});
