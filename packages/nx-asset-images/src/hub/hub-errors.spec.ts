import { describe, expect, it } from 'vitest';
import { classifyHubAnswer, HubError, type HubFailure } from './hub-errors';

describe('classifyHubAnswer (hf_raise_for_status)', () => {
  it.each<[number, string | undefined, boolean, HubFailure]>([
    [404, 'RepoNotFound', false, 'repo-not-found'],
    [404, undefined, true, 'repo-not-found'],
    [404, 'RevisionNotFound', false, 'revision-not-found'],
    [401, 'RepoNotFound', false, 'token-required'],
    [401, 'GatedRepo', false, 'token-required'],
    [403, 'GatedRepo', true, 'no-access'],
    [401, undefined, true, 'no-access'],
    [429, undefined, true, 'unavailable'],
    [503, undefined, false, 'unavailable'],
    [400, undefined, false, 'unexpected'],
  ])('%i %s (token: %s) -> %s', (status, errorCode, hasToken, expected) => {
    expect(classifyHubAnswer({ status, errorCode }, hasToken)).toBe(expected);
  });
});

describe('HubError', () => {
  const context = {
    ref: { repoId: 'org/gated', revision: 'main', revisionGiven: false },
    endpoint: 'https://huggingface.co',
    tokenVariables: ['HF_TOKEN', 'NX_ASSET_IMAGES_TOKEN_HUGGINGFACE_CO'],
    hasToken: false,
  };
  it.each<[HubFailure, number | undefined, RegExp]>([
    [
      'token-required',
      401,
      /^hf:\/\/org\/gated@main: .*no token is set \(HTTP 401\)\. Set HF_TOKEN or NX_ASSET_IMAGES_TOKEN_HUGGINGFACE_CO/,
    ],
    ['revision-not-found', 404, /^hf:\/\/org\/gated@main: org\/gated has no revision "main" \(HTTP 404\)/],
    ['repo-not-found', 404, /no repository org\/gated on https:\/\/huggingface\.co/],
    ['unavailable', 429, /did not answer \(HTTP 429\) after the retries.*rate limited/],
  ])('%s names the repo, the revision and what to do', (failure, status, message) => {
    const error = new HubError(failure, context, status);
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/Nothing was written\.$/);
    expect(error).toMatchObject({ failure, repoId: 'org/gated', revision: 'main', status });
  });
});
