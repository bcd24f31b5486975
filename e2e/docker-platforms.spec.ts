// What Docker does with the platform of a loaded asset image, the fact the
// platforms work (issue 13) builds on. Docker 20.10 (classic image store):
// BuildKit building an app for linux/arm64 finds `COPY --from=<asset>` only
// when the image Docker holds under that tag is the arm64 variant (its config
// says so); the legacy builder does not look. Docker 26 (containerd image
// store): BuildKit takes the image under the tag whatever variant it is (for an
// asset the layers, so the bytes, are the same). The variants come from one
// index over the same layers.
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assembleImageIndex } from '../packages/nx-asset-images/src/oci/image-index';
import { groupedFilesLayer } from '../packages/nx-asset-images/src/tar/file-layer';
import { dockerLoad } from '../packages/nx-asset-images/src/transports/docker-load';
import { buildkitEnv, docker, e2eEngine } from './support/docker';
import { servicesEnv } from './support/services';
import { removeTempDirs, tempDir } from './support/temp-dirs';

const tags: string[] = [];
afterAll(async () => {
  for (const tag of tags) await docker(['rmi', '-f', tag]).catch(() => undefined);
  removeTempDirs();
});
const RUN = `${process.pid}-${Date.now()}`;
const buildkit = buildkitEnv();

const containerd = e2eEngine() === '26';
describe(`a loaded asset variant and the platform of an app build (Docker ${containerd ? '26, containerd store' : '20.10, classic store'})`, () => {
  it(`BuildKit --platform linux/arm64 ${containerd ? 'uses the amd64 variant under the tag too' : 'needs the arm64 variant under the tag'}; with the arm64 one, the app builds`, async () => {
    const src = tempDir('nxai-plat-');
    writeFileSync(path.join(src, 'config.json'), '{"hidden_size": 8}\n');
    const layer = await groupedFilesLayer([{ sourcePath: path.join(src, 'config.json'), path: 'config.json' }]);
    const multi = assembleImageIndex({
      layers: [layer],
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
    });
    const tag = `nxai-e2e/plat-asset:${RUN}`;
    tags.push(tag, `nxai-e2e/plat-app:${RUN}`);
    const ctx = tempDir('nxai-plat-ctx-');
    writeFileSync(path.join(ctx, 'Dockerfile'), `FROM scratch\nCOPY --from=${tag} / /assets/\n`);
    const build = () =>
      docker(['build', '--platform', 'linux/arm64', '--network=host', '-t', `nxai-e2e/plat-app:${RUN}`, ctx], {
        env: buildkit,
        reject: false,
      });
    const host = { dockerHost: servicesEnv().DOCKER_HOST };

    await dockerLoad(multi.images[0]!.image, [tag], host);
    const withAmd64 = await build();
    if (containerd) {
      // Nothing can be pulled (the tag's registry is Docker Hub, out of reach): the loaded amd64 variant was used.
      expect(withAmd64.exitCode, withAmd64.stderr).toBe(0);
      const id = (await docker(['create', `nxai-e2e/plat-app:${RUN}`, '/none'])).stdout.trim();
      try {
        await docker(['cp', `${id}:/assets/config.json`, path.join(src, 'copied.json')]);
        expect(readFileSync(path.join(src, 'copied.json'), 'utf8')).toBe('{"hidden_size": 8}\n');
      } finally {
        await docker(['rm', id]);
      }
    } else {
      expect(withAmd64.exitCode).not.toBe(0);
      // it is not used: BuildKit goes to the registry for it
      expect(withAmd64.stderr + withAmd64.stdout).toMatch(/not found|no match for platform|failed to do request/);
    }

    await dockerLoad(multi.images[1]!.image, [tag], host);
    const withArm64 = await build();
    expect(withArm64.exitCode, withArm64.stderr).toBe(0);
    const inspect = await docker(['image', 'inspect', '--format', '{{.Architecture}}', `nxai-e2e/plat-app:${RUN}`]);
    expect(inspect.stdout.trim()).toBe('arm64');
  });
});
