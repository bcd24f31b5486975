// Proves the test services started by e2e/support/global-setup.ts are real:
// a docker engine that builds and runs images FROM busybox, and two
// registries (one with htpasswd auth) that skopeo can push to and read from.
// skopeo takes busybox from a `docker save` archive, not from the daemon: Debian 12's skopeo 1.9 speaks Docker
// API 1.22 to a daemon, which Docker 26 (minimum 1.24) refuses.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { docker, dockerBuild, dockerRunRm } from './support/docker';
import { exec } from './support/exec';
import { servicesEnv } from './support/services';
import { sha256 } from './support/sha256';
import { removeTempDirs, tempDir } from './support/temp-dirs';

afterAll(removeTempDirs);

let archive: string | undefined;
/** `docker-archive:` of busybox:latest, saved from the run's engine once. */
async function busyboxArchive(): Promise<string> {
  if (!archive) {
    const file = path.join(tempDir(), 'busybox.tar');
    await docker(['save', '-o', file, 'busybox:latest']);
    archive = file;
  }
  return `docker-archive:${archive}`;
}

describe('test services', () => {
  it('exposes the services env to test workers (process.env and inject)', () => {
    const env = servicesEnv();
    expect(env.DOCKER_HOST).toMatch(/^unix:\/\/.+\/docker\.sock$/);
    expect(env.DOCKER_HOST).not.toContain('/var/run/docker.sock');
    expect(env.NXAI_REGISTRY).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(env.NXAI_AUTH_REGISTRY).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(env.NXAI_AUTH_REGISTRY).not.toBe(env.NXAI_REGISTRY);
    expect(env.NXAI_AUTH_PASSWORD.length).toBeGreaterThanOrEqual(16);
    expect(process.env.DOCKER_HOST).toBe(env.DOCKER_HOST);
    expect(process.env.NXAI_REGISTRY).toBe(env.NXAI_REGISTRY);
  });

  it('builds an image FROM busybox and runs it: sha256sum inside equals the host hash', async () => {
    const ctx = tempDir();
    const bytes = randomBytes(64 * 1024 + 7);
    writeFileSync(path.join(ctx, 'data.bin'), bytes);
    writeFileSync(
      path.join(ctx, 'Dockerfile'),
      ['FROM busybox', 'COPY data.bin /data.bin', 'RUN sha256sum /data.bin > /data.sha256', 'CMD ["cat", "/data.sha256"]', ''].join('\n'),
    );
    const tag = `nxai-e2e/services:${Date.now()}`;
    await dockerBuild(ctx, tag);

    const expected = sha256(bytes);
    const fromRunStep = await dockerRunRm(tag);
    expect(fromRunStep.stdout.trim()).toBe(`${expected}  /data.bin`);
    const fromRun = await dockerRunRm(tag, ['sha256sum', '/data.bin']);
    expect(fromRun.stdout.split(/\s+/)[0]).toBe(expected);

    await docker(['rmi', tag]);
  });

  it('pushes to the plain registry and reads the same digest back', async () => {
    const { NXAI_REGISTRY: registry } = servicesEnv();
    const ref = `${registry}/nxai-e2e/busybox:plain`;
    await exec('skopeo', ['copy', '-q', '--dest-tls-verify=false', await busyboxArchive(), `docker://${ref}`]);
    const pushed = JSON.parse((await exec('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout) as {
      layers: unknown[];
    };
    expect(pushed.layers).toHaveLength(1);
    const digest = await registryDigest(ref, []);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    // And the engine can pull it back from 127.0.0.1 (insecure by default).
    await docker(['pull', '-q', ref]);
    const pulled = await docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', ref]);
    expect(pulled.stdout).toContain(digest);
    await docker(['rmi', ref]);
  });

  it('pushes to the auth registry with the credentials and refuses wrong or missing ones', async () => {
    const { NXAI_AUTH_REGISTRY: registry, NXAI_AUTH_USER: user, NXAI_AUTH_PASSWORD: password } = servicesEnv();
    const ref = `${registry}/nxai-e2e/busybox:auth`;
    const creds = `${user}:${password}`;

    const anonymous = await exec('skopeo', ['copy', '-q', '--dest-tls-verify=false', await busyboxArchive(), `docker://${ref}`], {
      reject: false,
    });
    expect(anonymous.exitCode).not.toBe(0);
    expect(anonymous.stderr).toMatch(/unauthorized|authentication required/i);

    await exec('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', creds, await busyboxArchive(), `docker://${ref}`]);
    const digest = await registryDigest(ref, ['--creds', creds]);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    // Copy it on to the plain registry: same manifest bytes, same digest.
    const copy = `${servicesEnv().NXAI_REGISTRY}/nxai-e2e/busybox:from-auth`;
    await exec('skopeo', [
      'copy',
      '-q',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      '--src-creds',
      creds,
      `docker://${ref}`,
      `docker://${copy}`,
    ]);
    expect(await registryDigest(copy, [])).toBe(digest);

    const wrong = await exec('skopeo', ['inspect', '--tls-verify=false', '--creds', `${user}:not-${password}`, `docker://${ref}`], {
      reject: false,
    });
    expect(wrong.exitCode).not.toBe(0);
    expect(wrong.stderr).toMatch(/unauthorized|authentication required/i);
    expect(wrong.stderr).not.toContain(password);

    const none = await exec('skopeo', ['inspect', '--tls-verify=false', '--no-creds', `docker://${ref}`], { reject: false });
    expect(none.exitCode).not.toBe(0);
  });
});

async function registryDigest(ref: string, credArgs: string[]): Promise<string> {
  const res = await exec('skopeo', ['inspect', '--tls-verify=false', ...credArgs, `docker://${ref}`]);
  return (JSON.parse(res.stdout) as { Digest: string }).Digest;
}
