import { describe, expect, it } from 'vitest';
import { normalizeSha256, redactUrl, urlBasename } from './remote-source';

const HEX = 'ab'.repeat(32);

describe('normalizeSha256', () => {
  it.each([
    [HEX, HEX],
    [`sha256:${HEX}`, HEX],
    [HEX.toUpperCase(), HEX],
    ['xyz', undefined],
    [`${HEX}0`, undefined],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeSha256(input)).toBe(expected);
  });
});

describe('redactUrl', () => {
  it.each([
    ['https://h/a/b.bin', 'https://h/a/b.bin'],
    ['https://user:pw@h/a', 'https://h/a'],
    ['https://h/a?X-Amz-Signature=s3cr3t&X-Amz-Expires=60', 'https://h/a?X-Amz-Signature=REDACTED&X-Amz-Expires=REDACTED'],
    ['https://h/a#frag', 'https://h/a'],
    ['https://user:pw@h/a?token=x#f', 'https://h/a?token=REDACTED'],
    ['not a url?token=x', 'not a url'],
  ])('%s -> %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe('urlBasename', () => {
  it.each([
    ['https://huggingface.co/org/m/resolve/main/model.safetensors?download=true', 'model.safetensors'],
    ['https://h/dir/with%20space.bin', 'with space.bin'],
    ['https://h/', 'h'],
  ])('%s -> %s', (input, expected) => {
    expect(urlBasename(input)).toBe(expected);
  });
});
