import { afterEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertToHostname, credentialHelperFor, credentialsFromAuths, dockerAuthKey, resolveDockerCredentials } from './docker-config';
import { CredentialHelperError } from './credential-helper';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('Docker config host matching', () => {
  it.each([
    ['docker.io', 'https://index.docker.io/v1/'],
    ['index.docker.io', 'https://index.docker.io/v1/'],
    ['localhost:5000', 'localhost:5000'],
  ])('auth key of %s', (registry, key) => {
    expect(dockerAuthKey(registry)).toBe(key);
  });
  it.each([
    ['https://reg.io:5000/v1/', 'reg.io:5000'],
    ['http://reg.io', 'reg.io'],
    ['reg.io', 'reg.io'],
  ])('hostname of %s', (key, host) => {
    expect(convertToHostname(key)).toBe(host);
  });

  const b64 = (s: string) => Buffer.from(s).toString('base64');
  it.each([
    [{ auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw1') } } }, 'docker.io', { username: 'hub', password: 'pw1' }],
    [{ auths: { 'https://reg.io:5000': { auth: b64('u:p:with:colons') } } }, 'reg.io:5000', { username: 'u', password: 'p:with:colons' }],
    [{ auths: { 'reg.io': { username: 'u2', password: 'p2' } } }, 'reg.io', { username: 'u2', password: 'p2' }],
    [{ auths: { 'reg.io': { identitytoken: 'idt' } } }, 'reg.io', { identityToken: 'idt' }],
    [{ auths: { 'reg.io': { auth: b64('u:p') } } }, 'other.io', undefined],
  ])('auths %j for %s', (config, registry, expected) => {
    expect(credentialsFromAuths(config, registry)).toEqual(expected);
  });

  it.each([
    [{ credsStore: 'desktop', credHelpers: { 'gcr.io': 'gcloud' } }, 'gcr.io', 'gcloud'],
    [{ credsStore: 'desktop', credHelpers: { 'gcr.io': 'gcloud' } }, 'reg.io', 'desktop'],
    [{ credHelpers: { 'https://index.docker.io/v1/': 'hub' } }, 'docker.io', 'hub'],
    [{}, 'reg.io', undefined],
  ])('helper in %j for %s', (config, registry, expected) => {
    expect(credentialHelperFor(config, registry)).toBe(expected);
  });
});

describe('resolveDockerCredentials', () => {
  async function withHelper(body: string) {
    dir = await mkdtemp(join(tmpdir(), 'nxai-dcfg-'));
    await mkdir(join(dir, 'bin'));
    const script = join(dir, 'bin', 'docker-credential-test');
    await writeFile(script, `#!/bin/sh\n${body}\n`);
    await chmod(script, 0o755);
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ credsStore: 'test', auths: { 'fallback.io': { auth: Buffer.from('f:fp').toString('base64') } } }),
    );
    return { configDir: dir, env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}` } };
  }

  it('asks the store with the host on stdin; <token> user means an identity token', async () => {
    const options = await withHelper(
      `read host; if [ "$1" = get ] && [ "$host" = "reg.io:5000" ]; then echo '{"ServerURL":"reg.io:5000","Username":"<token>","Secret":"refresh-me"}'; else echo "credentials not found in native keychain"; exit 1; fi`,
    );
    expect(await resolveDockerCredentials('reg.io:5000', options)).toEqual({ identityToken: 'refresh-me' });
    // not found in the store -> falls back to auths
    expect(await resolveDockerCredentials('fallback.io', options)).toEqual({ username: 'f', password: 'fp' });
    expect(await resolveDockerCredentials('none.io', options)).toBeUndefined();
  });

  it('a failing helper is an error that does not echo its output', async () => {
    const options = await withHelper(`echo "oops secret-value" >&2; exit 3`);
    const error = await resolveDockerCredentials('reg.io', options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialHelperError);
    expect((error as Error).message).toContain('docker-credential-test');
    expect((error as Error).message).not.toContain('secret-value');
  });

  it('reads $DOCKER_CONFIG when no dir is given', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nxai-dcfg-'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { 'r.io': { username: 'x', password: 'y' } } }));
    expect(await resolveDockerCredentials('r.io', { env: { DOCKER_CONFIG: dir } })).toEqual({ username: 'x', password: 'y' });
  });
});
