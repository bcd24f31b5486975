import { describe, expect, it } from 'vitest';
import { hubEndpoint, hubToken, hubTokenVariables, InvalidHubEndpointError, resolveUrl, revisionInfoUrl, treeUrl } from './hub-endpoint';

describe('hubEndpoint', () => {
  it.each([
    [{}, 'https://huggingface.co'],
    [{ HF_ENDPOINT: '' }, 'https://huggingface.co'],
    [{ HF_ENDPOINT: 'http://127.0.0.1:8080/' }, 'http://127.0.0.1:8080'],
    [{ HF_ENDPOINT: 'https://mirror.example.com/hf//' }, 'https://mirror.example.com/hf'],
  ])('%j -> %s', (env, expected) => {
    expect(hubEndpoint(env)).toBe(expected);
  });

  it.each([['not a url'], ['ftp://example.com'], ['https://user:secret@example.com'], ['https://example.com/?a=1']])(
    'rejects %s',
    (value) => {
      expect(() => hubEndpoint({ HF_ENDPOINT: value })).toThrow(InvalidHubEndpointError);
      expect(() => hubEndpoint({ HF_ENDPOINT: value })).not.toThrow(/secret/);
    },
  );
});

describe('hubToken', () => {
  const endpoint = 'https://huggingface.co';
  it.each([
    [{}, undefined],
    [{ HF_TOKEN: 'hf_a' }, 'hf_a'],
    [{ NX_ASSET_IMAGES_TOKEN_HUGGINGFACE_CO: 'hf_b' }, 'hf_b'],
    [{ HF_TOKEN: 'hf_a', NX_ASSET_IMAGES_TOKEN_HUGGINGFACE_CO: 'hf_b' }, 'hf_a'],
    [{ HF_TOKEN: '  ', NX_ASSET_IMAGES_TOKEN_HUGGINGFACE_CO: 'hf_b' }, 'hf_b'],
  ])('%j -> %s', (env, expected) => {
    expect(hubToken(endpoint, env)).toBe(expected);
  });

  it('names the variables in order, the per-host one for the endpoint host', () => {
    expect(hubTokenVariables('http://127.0.0.1:9000')).toEqual(['HF_TOKEN', 'NX_ASSET_IMAGES_TOKEN_127_0_0_1']);
  });
});

describe('Hub URLs (as huggingface_hub builds them)', () => {
  const e = 'https://huggingface.co';
  it.each([
    [revisionInfoUrl(e, 'org/repo', 'main').href, 'https://huggingface.co/api/models/org/repo/revision/main'],
    [revisionInfoUrl(e, 'org/repo', 'refs/pr/1').href, 'https://huggingface.co/api/models/org/repo/revision/refs%2Fpr%2F1'],
    [treeUrl(e, 'org/repo', 'abc').href, 'https://huggingface.co/api/models/org/repo/tree/abc?recursive=true&expand=false'],
    [resolveUrl(e, 'org/repo', 'c0ffee', 'onnx/model 1.onnx'), 'https://huggingface.co/org/repo/resolve/c0ffee/onnx/model%201.onnx'],
    [resolveUrl(`${e}/mirror`, 'org/repo', 'c0ffee', 'a#b?.json'), 'https://huggingface.co/mirror/org/repo/resolve/c0ffee/a%23b%3F.json'],
  ])('%s', (actual, expected) => {
    expect(actual).toBe(expected);
  });
});
