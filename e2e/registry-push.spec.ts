// The registry client against the real Distribution registries of the test
// services (no auth and htpasswd): what we push is what skopeo sees, pushing
// again uploads nothing, a shared layer is mounted across repositories, a
// wrong password is a clear RegistryAuthError, and we can pull it back into
// an OCI layout that skopeo reads.
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseImageReference } from '../packages/nx-asset-images/src/oci/image-reference';
import { pushImage, pullImageToLayout, RegistryAuthError, type PushOptions } from '../packages/nx-asset-images/src/transports/registry';
import { bytesLayer, makeImage, seededBytes } from '../packages/nx-asset-images/src/transports/registry/__fixtures__/test-image';
import { exec } from './support/exec';
import { servicesEnv } from './support/services';
import { removeTempDirs, tempDir } from './support/temp-dirs';

afterAll(removeTempDirs);

const unique = `${process.pid}-${Date.now()}`;
// No ~/.docker/config.json of the machine: an empty config dir.
const isolated = (): PushOptions => ({ dockerConfig: { configDir: tempDir('nxai-reg-'), env: { PATH: process.env.PATH ?? '' } } });

async function skopeoDigest(ref: string, creds?: string): Promise<string> {
  const { stdout } = await exec('skopeo', ['inspect', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), `docker://${ref}`], {
    timeoutMs: 60_000,
  });
  return (JSON.parse(stdout) as { Digest: string }).Digest;
}

async function headStatus(url: string, auth?: string): Promise<number> {
  const res = await fetch(url, { method: 'HEAD', ...(auth ? { headers: { authorization: auth } } : {}) });
  return res.status;
}

describe('registry client against the real registry', () => {
  it('pushes to the no-auth registry: skopeo sees our manifest digest; a second push uploads nothing', async () => {
    const { NXAI_REGISTRY } = servicesEnv();
    const image = makeImage([bytesLayer(seededBytes(3 * 1024 * 1024 + 17, 1)), bytesLayer(seededBytes(1234, 2))], 'e2e-1');
    const ref = parseImageReference(`${NXAI_REGISTRY}/e2e/push-${unique}:0.1`);
    const first = await pushImage(image, [ref, { ...ref, tag: 'latest' }], isolated());
    expect(first.manifestDigest).toBe(image.manifest.descriptor.digest);
    expect(first.uploaded).toHaveLength(3);
    expect(await skopeoDigest(`${NXAI_REGISTRY}/e2e/push-${unique}:0.1`)).toBe(image.manifest.descriptor.digest);
    expect(await skopeoDigest(`${NXAI_REGISTRY}/e2e/push-${unique}:latest`)).toBe(image.manifest.descriptor.digest);

    const second = await pushImage(image, [ref], isolated());
    expect(second.uploaded).toEqual([]);
    expect(second.skipped).toHaveLength(3);
  });

  it('uploads in chunks (PATCH) when asked, and the registry accepts the blob', async () => {
    const { NXAI_REGISTRY } = servicesEnv();
    const image = makeImage([bytesLayer(seededBytes(5 * 1024 * 1024 + 3, 3))], 'e2e-chunked');
    const ref = parseImageReference(`${NXAI_REGISTRY}/e2e/chunked-${unique}:1`);
    const result = await pushImage(image, [ref], { ...isolated(), chunkSize: 1024 * 1024 });
    expect(result.uploaded).toHaveLength(2);
    expect(await skopeoDigest(`${NXAI_REGISTRY}/e2e/chunked-${unique}:1`)).toBe(image.manifest.descriptor.digest);
  });

  it('mounts a layer shared with an image in another repository', async () => {
    const { NXAI_REGISTRY } = servicesEnv();
    const shared = bytesLayer(seededBytes(2 * 1024 * 1024, 4));
    const one = makeImage([shared], 'one');
    const two = makeImage([shared, bytesLayer(seededBytes(4096, 5))], 'two');
    await pushImage(one, [parseImageReference(`${NXAI_REGISTRY}/e2e/one-${unique}:1`)], isolated());
    const result = await pushImage(two, [parseImageReference(`${NXAI_REGISTRY}/e2e/two-${unique}:1`)], {
      ...isolated(),
      mountFrom: [`e2e/one-${unique}`],
    });
    expect(result.mounted).toEqual([shared.descriptor.digest]);
    expect(result.uploaded).not.toContain(shared.descriptor.digest);
    expect(await headStatus(`http://${NXAI_REGISTRY}/v2/e2e/two-${unique}/blobs/${shared.descriptor.digest}`)).toBe(200);
  });

  it('pushes to the htpasswd registry with credentials from a Docker config.json', async () => {
    const { NXAI_AUTH_REGISTRY, NXAI_AUTH_USER, NXAI_AUTH_PASSWORD } = servicesEnv();
    const dir = tempDir('nxai-reg-');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({
        auths: { [NXAI_AUTH_REGISTRY]: { auth: Buffer.from(`${NXAI_AUTH_USER}:${NXAI_AUTH_PASSWORD}`).toString('base64') } },
      }),
    );
    const image = makeImage([bytesLayer(seededBytes(1024 * 1024, 6))], 'auth');
    const ref = parseImageReference(`${NXAI_AUTH_REGISTRY}/e2e/auth-${unique}:1`);
    const result = await pushImage(image, [ref], { dockerConfig: { configDir: dir, env: {} } });
    expect(result.uploaded).toHaveLength(2);
    expect(await skopeoDigest(`${NXAI_AUTH_REGISTRY}/e2e/auth-${unique}:1`, `${NXAI_AUTH_USER}:${NXAI_AUTH_PASSWORD}`)).toBe(
      image.manifest.descriptor.digest,
    );

    const layout = path.join(tempDir('nxai-reg-'), 'layout');
    const pulled = await pullImageToLayout(ref, layout, { credentials: { username: NXAI_AUTH_USER, password: NXAI_AUTH_PASSWORD } });
    expect(pulled.manifestDigest).toBe(image.manifest.descriptor.digest);
    const { stdout } = await exec('skopeo', ['inspect', `oci:${layout}:1`], { timeoutMs: 60_000 });
    expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(image.manifest.descriptor.digest);
  });

  it('wrong credentials: RegistryAuthError names the registry and user, never the password', async () => {
    const { NXAI_AUTH_REGISTRY, NXAI_AUTH_USER } = servicesEnv();
    const password = `wrong-${unique}-pw`;
    const image = makeImage([bytesLayer(seededBytes(100, 7))], 'wrong');
    const error = await pushImage(image, [parseImageReference(`${NXAI_AUTH_REGISTRY}/e2e/wrong-${unique}:1`)], {
      credentials: { username: NXAI_AUTH_USER, password },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    const err = error as RegistryAuthError;
    expect(err.message).toContain(`authentication to ${NXAI_AUTH_REGISTRY} failed for user "${NXAI_AUTH_USER}"`);
    expect(err.status).toBe(401);
    for (const text of [err.message, err.url, String(err.stack), JSON.stringify(err)]) expect(text).not.toContain(password);
  });
});
