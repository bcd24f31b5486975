// docker-build end to end: real nx, a real workspace, the test dockerd.
// An app whose Dockerfile copies an asset image gets the asset built first
// (task ordering), and its image holds the asset's files byte for byte, also
// when Docker holds a stale image under the asset's tag, and when the build
// must be re-made from the sources with the build's own SOURCE_DATE_EPOCH.
// The app sets useBuildx: false: this is the load path (on Docker 26 the default is buildx, in buildx.spec.ts).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerImageId } from '../packages/nx-asset-images/src/transports/docker-load';
import { docker, dockerRunRm, e2eEngine, expectedDockerId, type RecordedBuild } from './support/docker';
import { createWorkspace, runNx, type Workspace } from './support/workspace';
import { sha256 } from './support/sha256';
import { readResult } from './support/asset-image-result';

const RUN = randomBytes(3).toString('hex');
const ASSET_REPO = `localhost:5000/nxai-e2e/bert-${RUN}`;
const ASSET_REF = `${ASSET_REPO}:0.1`;
const APP_TAG = `nxai-e2e/app-${RUN}:latest`;
const OWNED_TAG = `nxai-e2e/owned-${RUN}:latest`;
const OWNED_CHOWN_TAG = `nxai-e2e/owned-chown-${RUN}:latest`;
const FILES = ['weights.bin', 'config.json', 'tok/vocab.txt'];

describe('docker-build', () => {
  let ws: Workspace;
  let weights: Buffer;

  beforeAll(async () => {
    weights = randomBytes(5 * 1024 * 1024 + 3);
    ws = await createWorkspace({
      '.gitignore': 'dist\n.asset-images\nassets/bert/*.bin\n',
      'assets/bert/asset.json': `${JSON.stringify({ name: 'bert', image: ASSET_REPO, tags: ['0.1'] }, null, 2)}\n`,
      'assets/bert/config.json': '{"hidden": 8}\n',
      'assets/bert/tok/vocab.txt': `[CLS]\n[SEP]\n${RUN}\n`,
      'apps/app/project.json': `${JSON.stringify(
        { name: 'app', root: 'apps/app', targets: { 'docker-build': { options: { network: 'host', tags: [APP_TAG], useBuildx: false } } } },
        null,
        2,
      )}\n`,
      'apps/app/Dockerfile': `FROM busybox\nCOPY --from=${ASSET_REF} / /assets/\nCOPY hello.txt /hello.txt\n`,
      'apps/app/hello.txt': 'hello\n',
      // An app that runs as a non-root user takes its weights with --chown, and --link as BuildKit recommends.
      'apps/owned/project.json': `${JSON.stringify(
        {
          name: 'owned',
          root: 'apps/owned',
          targets: {
            'docker-build': { options: { network: 'host', tags: [OWNED_TAG] } },
            'docker-build-chown': { options: { network: 'host', tags: [OWNED_CHOWN_TAG] } },
          },
        },
        null,
        2,
      )}\n`,
      'apps/owned/Dockerfile': `FROM busybox\nCOPY --chown=1000:1000 \\\n     --link --from=${ASSET_REF} / /assets/\n`,
      'apps/owned/Dockerfile.chown': `FROM busybox\nCOPY --chown=1000:1000 --from=${ASSET_REF} / /assets/\n`,
    });
    // The weight is gitignored: written after the initial commit, never committed.
    await ws.write('assets/bert/weights.bin', weights);
  });
  afterAll(async () => {
    for (const ref of [APP_TAG, OWNED_TAG, OWNED_CHOWN_TAG, ASSET_REF])
      await docker(['rmi', '-f', ref], { reject: false }).catch(() => undefined);
    await ws?.dispose();
  });

  async function appHashes(): Promise<Record<string, string>> {
    const res = await dockerRunRm(APP_TAG, ['sha256sum', ...FILES.map((f) => `/assets/${f}`)]);
    return Object.fromEntries(
      res.stdout
        .trim()
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .map(([hash, file]) => [file!.slice('/assets/'.length), hash!]),
    );
  }
  function sourceHashes(): Record<string, string> {
    return Object.fromEntries(FILES.map((f) => [f, sha256(readFileSync(ws.path('assets/bert', f)))]));
  }
  async function assetConfigDigest(): Promise<string> {
    return readResult(ws, 'bert').configDigest;
  }
  /** The id Docker gives the asset's current build (config digest on the classic store, manifest digest on containerd's). */
  async function assetDockerId(): Promise<string> {
    return expectedDockerId(readResult(ws, 'bert') as RecordedBuild);
  }
  const imageId = dockerImageId;

  it('builds the asset first, then the app; the app holds every asset file byte for byte', async () => {
    const shown = JSON.parse((await runNx(ws, ['show', 'project', 'app', '--json'])).stdout) as {
      targets: Record<string, { executor: string; dependsOn: unknown[]; options: Record<string, unknown> }>;
    };
    expect(shown.targets['docker-build']).toMatchObject({
      executor: 'nx-asset-images:docker-build',
      dependsOn: [{ projects: ['bert'], target: 'asset-image' }],
      options: { dockerfile: 'apps/app/Dockerfile', context: 'apps/app', network: 'host' },
    });

    const res = await runNx(ws, ['run', 'app:docker-build']);
    const out = res.stdout + res.stderr;
    const assetAt = out.indexOf('nx run bert:asset-image');
    const appAt = out.indexOf('nx run app:docker-build');
    expect(assetAt).toBeGreaterThanOrEqual(0);
    expect(appAt).toBeGreaterThan(assetAt);
    // The asset-image task loaded the image: docker-build found it in place.
    expect(out).toContain(`already at ${await assetConfigDigest()}`);
    // Docker's own output is streamed through.
    expect(out).toMatch(/Successfully tagged|naming to/);

    expect(await appHashes()).toEqual(sourceHashes());
    expect(sourceHashes()['weights.bin']).toBe(sha256(weights));
  });

  it('a stale tag (another image under the asset reference) is replaced by the build, without rebuilding the asset', async () => {
    const expected = await assetDockerId();
    await docker(['tag', 'busybox:latest', ASSET_REF]);
    expect(await imageId(ASSET_REF)).not.toBe(expected);

    const res = await runNx(ws, ['run', 'app:docker-build']);
    const out = res.stdout + res.stderr;
    expect(out).toMatch(/bert:asset-image.*(existing outputs match the cache|local cache)/);
    expect(out).toContain(`${ASSET_REF} stale`);
    expect(out).toContain(`re-tagged ${await assetConfigDigest()}`);
    expect(await imageId(ASSET_REF)).toBe(expected);
    expect(await appHashes()).toEqual(sourceHashes());
  });

  it('after a newer build took the tag, a cache hit for the old content loads the old build back (from the sources: the lazy layout holds no layers)', async () => {
    const oldDigest = await assetDockerId();
    // A newer build: one byte of the weight changed; asset-image loads it under the same tag.
    const changed = Buffer.from(weights);
    changed[100] = changed[100]! ^ 0xff;
    await ws.write('assets/bert/weights.bin', changed);
    await runNx(ws, ['run', 'bert:asset-image']);
    const newDigest = await assetDockerId();
    expect(newDigest).not.toBe(oldDigest);
    expect(await imageId(ASSET_REF)).toBe(newDigest);

    // Back to the old bytes: Nx restores the old image.json from its cache, Docker still has the new image under the tag.
    await ws.write('assets/bert/weights.bin', weights);
    // And Docker no longer has the old build at all, so it must be loaded, not re-tagged.
    await docker(['rmi', '-f', oldDigest]);
    expect(await imageId(oldDigest)).toBeUndefined();

    const res = await runNx(ws, ['run', 'app:docker-build']);
    const out = res.stdout + res.stderr;
    expect(out).toMatch(/bert:asset-image.*(existing outputs match the cache|local cache)/);
    expect(await assetDockerId()).toBe(oldDigest);
    expect(out).toContain(`${ASSET_REF} stale`);
    // ociLayout "lazy" (the default) kept no copy of the old layers: they come from the files, which hold the old bytes again.
    expect(out).toMatch(/loaded sha256:[0-9a-f]{64} from the sources/);
    expect(await imageId(ASSET_REF)).toBe(oldDigest);
    const hashes = await appHashes();
    expect(hashes['weights.bin']).toBe(sha256(weights));
    expect(hashes).toEqual(sourceHashes());
  });

  it("built with SOURCE_DATE_EPOCH, Docker and the layout store both lacking the build: docker-build run without it rebuilds from the sources with the recorded parameters (the recorded digest, not today's)", async () => {
    // The build of the tests above: no SOURCE_DATE_EPOCH, mtime 0. What a rebuild with today's parameters would give.
    const today = readResult(ws, 'bert');
    expect(today.build?.mtime).toBe(0);
    await runNx(ws, ['run', 'bert:asset-image'], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    const result = readResult(ws, 'bert');
    expect(result.build?.mtime).toBe(1700000000);
    // The parameter changes the image: recorded and today's parameters give different digests.
    expect(result.configDigest).not.toBe(today.configDigest);
    expect(expectedDockerId(result)).not.toBe(expectedDockerId(today));
    for (const ref of [...result.references, expectedDockerId(result)]) await docker(['rmi', '-f', ref], { reject: false });
    expect(await imageId(expectedDockerId(result))).toBeUndefined();
    await rm(ws.path('.asset-images/oci'), { recursive: true, force: true });

    // docker-build alone, without SOURCE_DATE_EPOCH: its asset-image dependency would be another task (SOURCE_DATE_EPOCH
    // is one of its inputs) and would build today's image instead of using the recorded one.
    const res = await runNx(ws, ['run', 'app:docker-build', '--exclude-task-dependencies'], { env: { SOURCE_DATE_EPOCH: undefined } });
    const out = res.stdout + res.stderr;
    expect(out).not.toContain('nx run bert:asset-image');
    expect(out).toMatch(/loaded sha256:[0-9a-f]{64} from the sources/);
    expect(readResult(ws, 'bert')).toEqual(result);
    expect(await imageId(ASSET_REF)).toBe(expectedDockerId(result));
    expect(await appHashes()).toEqual(sourceHashes());
  });

  it('an app whose COPY --from also has --chown and --link gets the asset, each file owned as it asked', async () => {
    /** `uid:gid sha256` of each asset file in the app image. */
    const ownedFiles = async (tag: string): Promise<Record<string, string>> => {
      const paths = FILES.map((f) => `/assets/${f}`);
      const owners = (await dockerRunRm(tag, ['stat', '-c', '%u:%g', ...paths])).stdout.trim().split('\n');
      const hashes = (await dockerRunRm(tag, ['sha256sum', ...paths])).stdout.trim().split('\n');
      return Object.fromEntries(FILES.map((f, i) => [f, `${owners[i]!.trim()} ${hashes[i]!.trim().split(/\s+/)[0]!}`]));
    };
    const expected = Object.fromEntries(Object.entries(sourceHashes()).map(([f, hash]) => [f, `1000:1000 ${hash}`]));

    // The multi-flag COPY is what the plugin reads: the inferred targets depend on the asset.
    for (const target of ['docker-build', 'docker-build-chown']) {
      const shown = JSON.parse((await runNx(ws, ['show', 'project', 'owned', '--json'])).stdout) as {
        targets: Record<string, { dependsOn: unknown[] }>;
      };
      expect(shown.targets[target]?.dependsOn).toEqual([{ projects: ['bert'], target: 'asset-image' }]);
    }

    await runNx(ws, ['run', 'owned:docker-build-chown']);
    expect(await ownedFiles(OWNED_CHOWN_TAG)).toEqual(expected);

    const linked = await runNx(ws, ['run', 'owned:docker-build'], { reject: false });
    if (e2eEngine() === '26') {
      expect(linked.exitCode).toBe(0);
      expect(await ownedFiles(OWNED_TAG)).toEqual(expected);
    } else {
      // Docker 20.10's builders know no --link (BuildKit 0.8 and the legacy builder alike): Docker refuses it, the plugin
      // did its part (the asset is in Docker at its build) and the failure is the target's.
      expect(linked.exitCode).not.toBe(0);
      expect(linked.stdout + linked.stderr).toContain('Unknown flag: link');
      expect(await imageId(ASSET_REF)).toBe(await assetDockerId());
    }
  });

  it("a tag the asset does not have is an error naming the Dockerfile line and the asset's tags; docker build failing is a failure", async () => {
    await ws.write('apps/app/Dockerfile', `FROM busybox\nCOPY --from=${ASSET_REPO}:0.0 / /assets/\n`);
    const wrongTag = await runNx(ws, ['run', 'app:docker-build'], { reject: false });
    expect(wrongTag.exitCode).not.toBe(0);
    expect(wrongTag.stdout + wrongTag.stderr).toMatch(
      new RegExp(`apps/app/Dockerfile:2: ${ASSET_REPO}:0\\.0 uses tag "0\\.0".*tags: 0\\.1, sha256-[0-9a-f]{20}`),
    );

    await ws.write('apps/app/Dockerfile', `FROM busybox\nCOPY --from=${ASSET_REF} / /assets/\nRUN exit 3\n`);
    const failing = await runNx(ws, ['run', 'app:docker-build'], { reject: false });
    expect(failing.exitCode).not.toBe(0);
    expect(failing.stdout + failing.stderr).toMatch(/docker build .* failed \(exit [1-9]\d*\)/);
  });
});
