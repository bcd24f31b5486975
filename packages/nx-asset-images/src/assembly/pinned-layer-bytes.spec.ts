import { mkdtemp, rm } from 'node:fs/promises';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AssetAbsentFilesError } from '../errors/asset-errors';
import { sha256Digest } from '../oci/digest';
import type { Digest } from '../oci/image';
import { hasBlob } from '../store/blob-store';
import { listenLoopback, type LoopbackAddress } from '../transports/registry/__fixtures__/loopback-server';
import { pinnedLayerBytes } from './pinned-layer-bytes';

const bytes = Buffer.from('layer bytes');
const descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest(bytes) as Digest, size: bytes.length };

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('pinnedLayerBytes: errors that say which files and which registry', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0)) await fn();
  });
  const layout = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pinned-bytes-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  };
  const registry = async (handler: http.RequestListener): Promise<LoopbackAddress> => {
    const address = await listenLoopback(http.createServer(handler));
    cleanup.push(address.close);
    return address;
  };

  it.each([
    ['the registry lacks the blob', 404, /is not in the registry \(127\.0\.0\.1:\d+\/team\/bert\).*nx run bert:asset-push/],
    ['the registry answers 403', 403, /could not be fetched from 127\.0\.0\.1:\d+\/team\/bert/],
  ])('%s', async (_name, status, message) => {
    const server = await registry((req, res) => {
      if (req.url === '/v2/') return res.writeHead(200).end();
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
    });
    for (const keep of [true, false]) {
      const open = pinnedLayerBytes({
        layoutDir: await layout(),
        image: `${server.host}/team/bert`,
        lockFile: 'assets/bert/asset.lock.json',
        project: 'bert',
        keep,
        pull: { retry: { attempts: 1 } },
      });
      const error = await drain(open(descriptor, ['weights/model.bin'])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AssetAbsentFilesError);
      expect((error as AssetAbsentFilesError).files).toEqual(['weights/model.bin']);
      expect((error as Error).message).toMatch(/^assets\/bert\/asset\.lock\.json: "weights\/model\.bin" is not in this clone/);
      expect((error as Error).message).toContain(descriptor.digest);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('no registry reachable: names the files and the registry', async () => {
    const server = await registry(() => undefined);
    const host = server.host;
    await server.close();
    const open = pinnedLayerBytes({
      layoutDir: await layout(),
      image: `${host}/team/bert`,
      lockFile: 'assets/bert/asset.lock.json',
      project: 'bert',
      pull: { retry: { attempts: 1 } },
    });
    const error = await drain(open(descriptor, ['weights/model.bin'])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssetAbsentFilesError);
    expect((error as Error).message).toContain('"weights/model.bin"');
    expect((error as Error).message).toContain(`could not be fetched from ${host}/team/bert`);
  });

  it('serves the blob from the registry, verified, and keeps it in the store unless told not to', async () => {
    let gets = 0;
    const server = await registry((req, res) => {
      if (req.url === '/v2/') return res.writeHead(200).end();
      gets++;
      res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    });
    const dir = await layout();
    const open = pinnedLayerBytes({ layoutDir: dir, image: `${server.host}/team/bert`, lockFile: 'l', project: 'bert' });
    expect(await drain(open(descriptor, ['a']))).toEqual(bytes);
    expect(await drain(open(descriptor, ['a']))).toEqual(bytes);
    expect(gets).toBe(1);
    const streamed = pinnedLayerBytes({
      layoutDir: await layout(),
      image: `${server.host}/team/bert`,
      lockFile: 'l',
      project: 'bert',
      keep: false,
    });
    expect(await drain(streamed(descriptor, ['a']))).toEqual(bytes);
    expect(await drain(streamed(descriptor, ['a']))).toEqual(bytes);
    expect(gets).toBe(3);
  });

  it('a blob whose bytes do not match its digest fails, and nothing is kept', async () => {
    const server = await registry((req, res) => {
      if (req.url === '/v2/') return res.writeHead(200).end();
      res.writeHead(200, { 'content-length': bytes.length }).end(Buffer.from('LAYER BYTES'));
    });
    const dir = await layout();
    const open = pinnedLayerBytes({
      layoutDir: dir,
      image: `${server.host}/team/bert`,
      lockFile: 'l',
      project: 'bert',
      pull: { retry: { attempts: 1 } },
    });
    await expect(drain(open(descriptor, ['a']))).rejects.toThrow();
    expect(await hasBlob(dir, descriptor)).toBe(false);
  });

  it("asks the lock's repository when asset.json's image (renamed where the weights are absent) lacks the layer", async () => {
    const asked: string[] = [];
    const server = await registry((req, res) => {
      if (req.url === '/v2/') return res.writeHead(200).end();
      asked.push(req.url ?? '');
      if (req.url?.startsWith('/v2/team/old/')) return res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
    });
    for (const keep of [true, false]) {
      asked.length = 0;
      const open = pinnedLayerBytes({
        layoutDir: await layout(),
        image: `${server.host}/team/new:0.2`,
        lockRepository: `${server.host}/team/old`,
        lockFile: 'l',
        project: 'bert',
        keep,
        pull: { retry: { attempts: 1 } },
      });
      expect(await drain(open(descriptor, ['a']))).toEqual(bytes);
      expect(asked).toEqual([`/v2/team/new/blobs/${descriptor.digest}`, `/v2/team/old/blobs/${descriptor.digest}`]);
    }
    const neither = pinnedLayerBytes({
      layoutDir: await layout(),
      image: `${server.host}/team/new:0.2`,
      lockRepository: `${server.host}/team/gone`,
      lockFile: 'l',
      project: 'bert',
      pull: { retry: { attempts: 1 } },
    });
    const error = await drain(neither(descriptor, ['a'])).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`is not in the registry (${server.host}/team/new, ${server.host}/team/gone)`);
  });
});
