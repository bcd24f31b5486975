import { describe, expect, it } from 'vitest';
import { insecureRegistriesFromEnv, isInsecureRegistry, registryBaseUrl } from './registry-url';

describe('insecureRegistriesFromEnv', () => {
  it.each<[string | undefined, string[]]>([
    [undefined, []],
    ['', []],
    ['reg.lan:5000', ['reg.lan:5000']],
    [' reg.lan:5000 , other:80,', ['reg.lan:5000', 'other:80']],
    [',,', []],
  ])('%j -> %j', (value, expected) => {
    expect(insecureRegistriesFromEnv(value === undefined ? {} : { NX_ASSET_IMAGES_INSECURE_REGISTRIES: value })).toEqual(expected);
  });
});

describe('registryBaseUrl', () => {
  it.each<[string, string[], string]>([
    ['127.0.0.1:5000', [], 'http://127.0.0.1:5000/'],
    ['localhost:5000', [], 'http://localhost:5000/'],
    ['[::1]:5000', [], 'http://[::1]:5000/'],
    ['reg.lan:5000', [], 'https://reg.lan:5000/'],
    ['reg.lan:5000', ['reg.lan:5000'], 'http://reg.lan:5000/'],
    ['reg.lan:5000', ['reg.lan'], 'http://reg.lan:5000/'],
    ['reg.lan:5000', ['http://REG.lan:5000/'], 'http://reg.lan:5000/'],
    ['reg.lan:5000', ['other.lan:5000'], 'https://reg.lan:5000/'],
    ['docker.io', [], 'https://registry-1.docker.io/'],
  ])('%s with %j -> %s', (registry, insecure, url) => {
    expect(registryBaseUrl(registry, insecure).href).toBe(url);
    expect(isInsecureRegistry(registry, insecure)).toBe(url.startsWith('http:'));
  });
});
