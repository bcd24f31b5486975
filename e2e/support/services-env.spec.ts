import { describe, expect, it } from 'vitest';
import { e2eEngineOf, servicesEnvFor, ServicesEnvError, type ServicesEnv } from './services-env';

const base = {
  DOCKER_HOST: 'unix:///s/docker.sock',
  DOCKER_CONFIG: '/s/docker-config',
  NXAI_REGISTRY: '127.0.0.1:1',
  NXAI_AUTH_REGISTRY: '127.0.0.1:2',
  NXAI_AUTH_USER: 'u',
  NXAI_AUTH_PASSWORD: 'p',
} as ServicesEnv;
const with26 = {
  ...base,
  NXAI_DOCKER26_HOST: 'unix:///s/d26/docker.sock',
  NXAI_DOCKER26_CLI: '/opt/d26/usr/bin/docker',
  NXAI_DOCKER26_CONFIG: '/s/d26/docker-config',
} as ServicesEnv;

describe('e2eEngineOf', () => {
  it.each([
    [undefined, '20.10'],
    ['', '20.10'],
    ['20', '20.10'],
    ['20.10', '20.10'],
    ['26', '26'],
  ] as const)('%s -> %s', (value, engine) => expect(e2eEngineOf(value)).toBe(engine));
  it('rejects anything else, naming the variable', () =>
    expect(() => e2eEngineOf('27')).toThrow(/NXAI_E2E_DOCKER=27: expected 20.10 or 26/));
});

describe('servicesEnvFor', () => {
  it('20.10 keeps the env as started', () => expect(servicesEnvFor(with26, '20.10')).toEqual({ env: with26 }));
  it("26 points DOCKER_HOST and DOCKER_CONFIG at dockerd 26 and puts its CLI's directory first", () => {
    const { env, cliDir } = servicesEnvFor(with26, '26');
    expect(env.DOCKER_HOST).toBe('unix:///s/d26/docker.sock');
    expect(env.DOCKER_CONFIG).toBe('/s/d26/docker-config');
    expect(env.NXAI_REGISTRY).toBe('127.0.0.1:1');
    expect(cliDir).toBe('/opt/d26/usr/bin');
  });
  it('26 without dockerd 26 in the env is an error naming the missing keys', () => {
    try {
      servicesEnvFor(base, '26');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ServicesEnvError);
      expect((error as ServicesEnvError).missing).toEqual(['NXAI_DOCKER26_HOST', 'NXAI_DOCKER26_CLI', 'NXAI_DOCKER26_CONFIG']);
    }
  });
});
