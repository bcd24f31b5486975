import { describe, expect, it } from 'vitest';
import { authFromEnv, tokenEnvVarName, tokenEnvVarsFor, tokenForHost } from './source-auth';

describe('tokenEnvVarName', () => {
  it.each([
    ['huggingface.co', 'NX_ASSET_IMAGES_TOKEN_HUGGINGFACE_CO'],
    ['models.internal.example.com', 'NX_ASSET_IMAGES_TOKEN_MODELS_INTERNAL_EXAMPLE_COM'],
    ['127.0.0.1', 'NX_ASSET_IMAGES_TOKEN_127_0_0_1'],
    ['my-bucket.s3.amazonaws.com', 'NX_ASSET_IMAGES_TOKEN_MY_BUCKET_S3_AMAZONAWS_COM'],
  ])('%s -> %s', (host, name) => {
    expect(tokenEnvVarName(host)).toBe(name);
  });
});

describe('tokenForHost / authFromEnv', () => {
  it.each([
    ['huggingface.co', { HF_TOKEN: 'hf' }, 'hf'],
    ['cdn-lfs.huggingface.co', { HF_TOKEN: 'hf' }, 'hf'],
    ['nothuggingface.co', { HF_TOKEN: 'hf' }, undefined],
    ['huggingface.co.evil.com', { HF_TOKEN: 'hf' }, undefined],
    ['huggingface.co', { HF_TOKEN: 'hf', NX_ASSET_IMAGES_TOKEN_HUGGINGFACE_CO: 'own' }, 'own'],
    ['example.com', { NX_ASSET_IMAGES_TOKEN_EXAMPLE_COM: '  t  ' }, 't'],
    ['example.com', { NX_ASSET_IMAGES_TOKEN_EXAMPLE_COM: '' }, undefined],
    ['other.com', { NX_ASSET_IMAGES_TOKEN_EXAMPLE_COM: 't' }, undefined],
  ])('%s with %j -> %s', (host, env, token) => {
    expect(tokenForHost(host, env)).toBe(token);
  });

  it('makes a bearer header for the URL hostname, whatever the port', () => {
    const auth = authFromEnv({ NX_ASSET_IMAGES_TOKEN_EXAMPLE_COM: 'abc' });
    expect(auth(new URL('https://example.com:8443/x'))).toBe('Bearer abc');
    expect(auth(new URL('https://other.com/x'))).toBeUndefined();
  });

  it('lists HF_TOKEN as a candidate only for Hugging Face hosts', () => {
    expect(tokenEnvVarsFor('huggingface.co')).toEqual(['NX_ASSET_IMAGES_TOKEN_HUGGINGFACE_CO', 'HF_TOKEN']);
    expect(tokenEnvVarsFor('example.com')).toEqual(['NX_ASSET_IMAGES_TOKEN_EXAMPLE_COM']);
  });
});
