import { describe, expect, it } from 'vitest';
import { credentialRefusal, isDowngrade, maySendCredentials, sameOrigin } from './credential-origin';

const u = (s: string) => new URL(s);

describe('maySendCredentials', () => {
  it.each<[string, string, string[], boolean, ReturnType<typeof credentialRefusal>]>([
    // target, owner, also owned, allowed, refusal
    ['https://reg.example.com/v2/a/blobs/x', 'https://reg.example.com', [], true, undefined],
    ['https://reg.example.com:443/v2/', 'https://reg.example.com', [], true, undefined],
    ['https://REG.example.com/v2/', 'https://reg.example.com', [], true, undefined],
    ['http://127.0.0.1:5000/v2/a/blobs/x', 'http://127.0.0.1:5000', [], true, undefined],
    ['http://127.0.0.1:5000/v2/?a=b', 'http://127.0.0.1:5000/v2/', [], true, undefined],
    // another host, another port, another scheme: never
    ['https://storage.example.com/bucket/x', 'https://reg.example.com', [], false, 'other-origin'],
    ['https://reg.example.com.evil.test/v2/', 'https://reg.example.com', [], false, 'other-origin'],
    ['https://sub.reg.example.com/v2/', 'https://reg.example.com', [], false, 'other-origin'],
    ['http://127.0.0.1:6000/blob', 'http://127.0.0.1:5000', [], false, 'other-origin'],
    ['https://reg.example.com:8443/v2/', 'https://reg.example.com', [], false, 'other-origin'],
    ['http://localhost:5000/v2/', 'http://127.0.0.1:5000', [], false, 'other-origin'],
    // https -> http downgrade: never, not even to the same host and port
    ['http://reg.example.com/v2/', 'https://reg.example.com', [], false, 'downgrade'],
    ['http://reg.example.com:443/v2/', 'https://reg.example.com', [], false, 'downgrade'],
    ['http://storage.example.com/x', 'https://reg.example.com', [], false, 'downgrade'],
    // upgrade http -> https of the same host: another origin
    ['https://127.0.0.1:5000/v2/', 'http://127.0.0.1:5000', [], false, 'other-origin'],
    // the token realm the owner announced
    ['https://auth.docker.io/token?scope=x', 'https://registry-1.docker.io', ['https://auth.docker.io/token'], true, undefined],
    ['http://127.0.0.1:7000/token', 'http://127.0.0.1:5000', ['http://127.0.0.1:7000/token'], true, undefined],
    ['https://other.example.com/token', 'https://registry-1.docker.io', ['https://auth.docker.io/token'], false, 'other-origin'],
    ['http://auth.example.com/token', 'https://reg.example.com', ['http://auth.example.com/token'], false, 'downgrade'],
    // not http(s) at all
    ['file:///etc/passwd', 'file:///etc/hosts', [], false, 'not-http'],
    ['ftp://reg.example.com/x', 'https://reg.example.com', [], false, 'not-http'],
    ['data:text/plain,x', 'https://reg.example.com', ['data:text/plain,y'], false, 'not-http'],
  ])('%s for credentials of %s (also %j): %s', (target, owner, also, allowed, refusal) => {
    expect(maySendCredentials(u(target), u(owner), also.map(u))).toBe(allowed);
    expect(credentialRefusal(u(target), u(owner), also.map(u))).toBe(refusal);
  });
});

describe('isDowngrade / sameOrigin', () => {
  it.each<[string, string, boolean, boolean]>([
    ['https://a.example', 'http://a.example', true, false],
    ['https://a.example', 'https://a.example/x', false, true],
    ['http://a.example', 'https://a.example', false, false],
    ['http://a.example', 'http://a.example:80/y', false, true],
    ['file:///a', 'file:///a', false, false],
  ])('%s -> %s: downgrade %s, same origin %s', (from, to, downgrade, same) => {
    expect(isDowngrade(u(from), u(to))).toBe(downgrade);
    expect(sameOrigin(u(from), u(to))).toBe(same);
  });
});

describe('maySendCredentials for a download redirected from its URL', () => {
  it.each([
    ['https://h/a', 'https://h/b?x=1', true],
    ['https://h/a', 'https://h:443/b', true],
    ['https://h/a', 'https://cdn.h/b', false],
    ['https://h/a', 'http://h/b', false],
    ['http://127.0.0.1:1000/a', 'http://127.0.0.1:2000/a', false],
    ['http://127.0.0.1:1000/a', 'http://localhost:1000/a', false],
    ['https://h/a', 'http://h:443/b', false],
    ['http://h/a', 'https://h/b', false],
    ['https://h/a', 'ftp://h/b', false],
  ])('%s -> %s: %s', (from, to, allowed) => {
    expect(maySendCredentials(new URL(to), new URL(from))).toBe(allowed);
  });
});
