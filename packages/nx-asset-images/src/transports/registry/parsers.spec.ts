import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate } from './www-authenticate';
import { redactUrl } from './redact';
import { isRetryableError, withRetry } from './retry';
import { nextOffsetFromRange } from './upload-session';
import { isInsecureRegistry, registryBaseUrl } from './registry-url';
import { RegistryAuthError, RegistryError } from './registry-errors';

describe('parseWwwAuthenticate', () => {
  it.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull,push"',
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/node:pull,push' },
        },
      ],
    ],
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    ['Bearer realm="r", error="invalid_token"', [{ scheme: 'bearer', params: { realm: 'r', error: 'invalid_token' } }]],
    [
      'Bearer realm="r",scope="a" , Basic realm="b"',
      [
        { scheme: 'bearer', params: { realm: 'r', scope: 'a' } },
        { scheme: 'basic', params: { realm: 'b' } },
      ],
    ],
    ['Bearer realm=unquoted', [{ scheme: 'bearer', params: { realm: 'unquoted' } }]],
    ['Bearer realm="with \\"quote\\""', [{ scheme: 'bearer', params: { realm: 'with "quote"' } }]],
    ['', []],
  ])('%s', (header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });
});

describe('redactUrl', () => {
  it.each([
    [
      'https://alice:pw@reg.io/v2/x/blobs/uploads/1?_state=abc&digest=sha256:1',
      'https://reg.io/v2/x/blobs/uploads/1?_state=REDACTED&digest=sha256%3A1',
    ],
    ['https://auth.io/token?service=s&access_token=tok', 'https://auth.io/token?service=s&access_token=REDACTED'],
    ['https://s3.io/blob?X-Amz-Signature=sig&X-Amz-Credential=c', 'https://s3.io/blob?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED'],
    ['not a url?token=x', 'not a url'],
  ])('%s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe('errors', () => {
  it('carry method, redacted url, status and code', () => {
    const e = new RegistryError({
      method: 'PUT',
      url: 'http://bob:pw@h:1/v2/a/manifests/t?token=zz',
      registry: 'h:1',
      status: 400,
      code: 'MANIFEST_BLOB_UNKNOWN',
      detail: 'blob unknown',
    });
    expect(e.message).toBe('PUT http://h:1/v2/a/manifests/t?token=REDACTED failed: 400 MANIFEST_BLOB_UNKNOWN: blob unknown');
    expect(e.url).not.toContain('pw');
    const a = new RegistryAuthError({ method: 'GET', url: 'http://h:1/v2/', registry: '127.0.0.1:5001', status: 401, user: 'alice' });
    expect(a.message).toMatch(/^authentication to 127\.0\.0\.1:5001 failed for user "alice"/);
  });
});

describe('retry policy', () => {
  it.each([
    [new RegistryError({ method: 'GET', url: 'http://h', registry: 'h', status: 500 }), true],
    [new RegistryError({ method: 'GET', url: 'http://h', registry: 'h', status: 503 }), true],
    [new RegistryError({ method: 'GET', url: 'http://h', registry: 'h', status: 429 }), true],
    [new RegistryError({ method: 'GET', url: 'http://h', registry: 'h', status: 400 }), false],
    [new RegistryError({ method: 'GET', url: 'http://h', registry: 'h', status: 404 }), false],
    [
      new RegistryError({ method: 'GET', url: 'http://h', registry: 'h', cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }),
      true,
    ],
    [
      new RegistryError({
        method: 'GET',
        url: 'http://h',
        registry: 'h',
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      }),
      true,
    ],
    [new RegistryError({ method: 'GET', url: 'http://h', registry: 'h', cause: new Error('socket hang up') }), true],
    [Object.assign(new Error('x'), { code: 'EPIPE' }), true],
    [new Error('boom'), false],
  ])('%s -> %s', (error, expected) => {
    expect(isRetryableError(error)).toBe(expected);
  });

  it('stops after the attempt budget and on non-retryable errors', async () => {
    let calls = 0;
    const fail500 = () => {
      calls++;
      return Promise.reject(new RegistryError({ method: 'GET', url: 'http://h', registry: 'h', status: 500 }));
    };
    await expect(withRetry(fail500, { attempts: 3, baseDelayMs: 1, sleep: async () => undefined })).rejects.toThrow(/500/);
    expect(calls).toBe(3);
    calls = 0;
    const fail400 = () => {
      calls++;
      return Promise.reject(new RegistryError({ method: 'GET', url: 'http://h', registry: 'h', status: 400 }));
    };
    await expect(withRetry(fail400, { attempts: 3, baseDelayMs: 1 })).rejects.toThrow(/400/);
    expect(calls).toBe(1);
  });

  it('stops when the total time budget would be exceeded', async () => {
    let calls = 0;
    const fail = () => {
      calls++;
      return Promise.reject(new RegistryError({ method: 'GET', url: 'http://h', registry: 'h', status: 503, retryAfterMs: 60_000 }));
    };
    await expect(withRetry(fail, { attempts: 10, baseDelayMs: 1, maxTotalMs: 1000 })).rejects.toThrow(/503/);
    expect(calls).toBe(1);
  });
});

describe('upload Range', () => {
  it.each([
    ['0-99', 100],
    ['bytes=0-99', 100],
    [undefined, 0],
    ['0-0', undefined],
    ['5-9', undefined],
  ])('%s -> %s', (range, expected) => {
    expect(nextOffsetFromRange(range)).toBe(expected);
  });
});

describe('registry URL', () => {
  it.each([
    ['localhost:5000', [], 'http://localhost:5000/'],
    ['127.0.0.1:5001', [], 'http://127.0.0.1:5001/'],
    ['[::1]:5000', [], 'http://[::1]:5000/'],
    ['registry.example.com', [], 'https://registry.example.com/'],
    ['registry.lan:5000', ['registry.lan:5000'], 'http://registry.lan:5000/'],
    ['registry.lan:5000', ['http://registry.lan:5000/'], 'http://registry.lan:5000/'],
    ['docker.io', [], 'https://registry-1.docker.io/'],
  ])('%s %j', (registry, insecure, expected) => {
    expect(registryBaseUrl(registry, insecure).toString()).toBe(expected);
  });
  it('is not fooled by a look-alike host', () => {
    expect(isInsecureRegistry('localhost.evil.com')).toBe(false);
  });
});
