import { describe, expect, it } from 'vitest';
import { InvalidProxyEnvError, proxyAuthorization, proxyFor, readProxySettings } from './proxy-env';

describe('proxyFor (HTTPS_PROXY, HTTP_PROXY, NO_PROXY as curl and Docker read them)', () => {
  it.each<[string, NodeJS.ProcessEnv, string, string | undefined]>([
    ['no variable: direct', {}, 'https://huggingface.co/x', undefined],
    ['https_proxy for https', { https_proxy: 'http://p:3128' }, 'https://huggingface.co/x', 'http://p:3128/'],
    ['HTTPS_PROXY for https', { HTTPS_PROXY: 'http://p:3128' }, 'https://huggingface.co/x', 'http://p:3128/'],
    ['lower case wins', { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' }, 'https://h/x', 'http://lower:1/'],
    ['an empty lower case is unset', { https_proxy: ' ', HTTPS_PROXY: 'http://upper:2' }, 'https://h/x', 'http://upper:2/'],
    ['HTTPS_PROXY is not for http', { HTTPS_PROXY: 'http://p:3128' }, 'http://h/x', undefined],
    ['HTTP_PROXY for http', { HTTP_PROXY: 'http://p:3128' }, 'http://127.0.0.1:5000/v2/', 'http://p:3128/'],
    ['http_proxy for http', { http_proxy: 'p:3128' }, 'http://h/x', 'http://p:3128/'],
    ['a proxy without a scheme is http:// for https targets too (curl)', { https_proxy: 'p:3128' }, 'https://h/x', 'http://p:3128/'],
    ['an https proxy', { HTTPS_PROXY: 'https://p:8443' }, 'https://h/x', 'https://p:8443/'],
    ['NO_PROXY host', { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'huggingface.co' }, 'https://huggingface.co/x', undefined],
    [
      'NO_PROXY covers subdomains',
      { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'huggingface.co' },
      'https://cdn-lfs.huggingface.co/x',
      undefined,
    ],
    ['NO_PROXY .domain', { HTTPS_PROXY: 'http://p:1', no_proxy: '.example.com' }, 'https://a.example.com/x', undefined],
    [
      'NO_PROXY .domain covers the domain itself (curl)',
      { HTTPS_PROXY: 'http://p:1', no_proxy: '.example.com' },
      'https://example.com/x',
      undefined,
    ],
    ['NO_PROXY *.domain', { HTTPS_PROXY: 'http://p:1', no_proxy: '*.example.com' }, 'https://example.com/x', undefined],
    ['NO_PROXY is not a substring match', { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'face.co' }, 'https://huggingface.co/x', 'http://p:1/'],
    ['NO_PROXY *', { HTTPS_PROXY: 'http://p:1', NO_PROXY: '*' }, 'https://h/x', undefined],
    ['NO_PROXY list with spaces', { HTTP_PROXY: 'http://p:1', NO_PROXY: 'a.com, 127.0.0.1 ,b.com' }, 'http://127.0.0.1:9/x', undefined],
    ['NO_PROXY host:port, other port', { HTTP_PROXY: 'http://p:1', NO_PROXY: 'h:5000' }, 'http://h:6000/x', 'http://p:1/'],
    ['NO_PROXY host:port, that port', { HTTP_PROXY: 'http://p:1', NO_PROXY: 'h:5000' }, 'http://h:5000/x', undefined],
    ['NO_PROXY IPv6', { HTTP_PROXY: 'http://p:1', NO_PROXY: '[::1]' }, 'http://[::1]:9/x', undefined],
    ['loopback is not implicitly direct (curl)', { HTTP_PROXY: 'http://p:1' }, 'http://localhost:9/x', 'http://p:1/'],
    ['no_proxy wins over NO_PROXY', { HTTP_PROXY: 'http://p:1', no_proxy: 'x.com', NO_PROXY: 'h' }, 'http://h/x', 'http://p:1/'],
  ])('%s', (_name, env, url, expected) => {
    expect(proxyFor(readProxySettings(env), new URL(url))?.href).toBe(expected);
  });

  it.each([
    [{ HTTPS_PROXY: 'socks5://p:1080' }, 'HTTPS_PROXY'],
    [{ http_proxy: 'http://[bad' }, 'http_proxy'],
  ])('rejects %j naming the variable, never the value', (env, variable) => {
    expect(() => readProxySettings(env)).toThrow(InvalidProxyEnvError);
    expect(() => readProxySettings(env)).toThrow(new RegExp(`^${variable} `));
  });

  it.each([
    ['http://p:1', undefined],
    ['http://user:p%40ss@p:1', `Basic ${Buffer.from('user:p@ss').toString('base64')}`],
  ])('proxyAuthorization(%s)', (url, expected) => {
    expect(proxyAuthorization(new URL(url))).toBe(expected);
  });
});
