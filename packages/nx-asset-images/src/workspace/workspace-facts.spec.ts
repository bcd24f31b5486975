import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { isDockerfileName } from '../dockerfile/find-image-references';
import {
  ASSET_IMAGES_GLOB,
  ASSET_MANIFEST_GLOB,
  assetImageOutputPath,
  assetResultDir,
  DOCKERFILE_GLOB,
  isPluginSpecifier,
  WORKSPACE_GLOB_IGNORE,
} from './workspace-facts';

describe('workspace facts', () => {
  it.each([
    ['apps/web/Dockerfile', true],
    ['apps/web/Dockerfile.prod', true],
    ['apps/web/api.Dockerfile', true],
    ['apps/web/dockerfile', false],
    ['apps/web/Dockerfile.dockerignore', true], // the glob takes it; isDockerfileName leaves it out
    ['assets/bert/asset.json', false],
  ])('DOCKERFILE_GLOB on %s: %s', (path, matched) => {
    expect(picomatch(DOCKERFILE_GLOB)(path)).toBe(matched);
  });

  it('the createNodes glob is the asset.json glob and the Dockerfile glob together', () => {
    const both = picomatch(ASSET_IMAGES_GLOB);
    for (const path of [
      'assets/bert/asset.json',
      'apps/web/Dockerfile',
      'apps/web/Dockerfile.prod',
      'apps/web/api.Dockerfile',
      'x/y.json',
    ]) {
      expect(both(path)).toBe(picomatch(ASSET_MANIFEST_GLOB)(path) || picomatch(DOCKERFILE_GLOB)(path));
    }
  });

  it('every name isDockerfileName takes matches the Dockerfile glob', () => {
    for (const name of ['Dockerfile', 'Dockerfile.prod', 'api.Dockerfile']) {
      expect(isDockerfileName(name) && picomatch(DOCKERFILE_GLOB)(`a/${name}`)).toBe(true);
    }
  });

  it.each([
    ['node_modules/pkg/asset.json', true],
    ['libs/x/node_modules/pkg/Dockerfile', true],
    ['dist/apps/web/Dockerfile', true],
    ['apps/web/dist/Dockerfile', true],
    ['.nx/cache/asset.json', true],
    ['.git/x/Dockerfile', true],
    ['.asset-images/oci/asset.json', true],
    ['assets/distilled/asset.json', false],
    ['apps/web/Dockerfile', false],
  ])('WORKSPACE_GLOB_IGNORE on %s: %s', (path, ignored) => {
    expect(picomatch([...WORKSPACE_GLOB_IGNORE], { dot: true })(path)).toBe(ignored);
  });

  it.each([
    ['nx-asset-images', true],
    ['nx-asset-images/plugin', true],
    ['@nx/docker', false],
    [undefined, false],
  ])('isPluginSpecifier(%s): %s', (value, expected) => {
    expect(isPluginSpecifier(value)).toBe(expected);
  });

  it('the result folder is the asset-image target outputPath, found by executor, else dist/asset-images/<project>', () => {
    expect(assetResultDir('bert')).toBe('dist/asset-images/bert');
    expect(assetImageOutputPath(undefined, 'bert')).toBe('dist/asset-images/bert');
    expect(assetImageOutputPath({ build: { executor: 'nx-asset-images:asset-image', options: { outputPath: 'out/bert' } } }, 'bert')).toBe(
      'out/bert',
    );
    expect(assetImageOutputPath({ build: { executor: 'other:build', options: { outputPath: 'out/bert' } } }, 'bert')).toBe(
      'dist/asset-images/bert',
    );
    expect(assetImageOutputPath({ build: { executor: 'nx-asset-images:asset-image', options: { outputPath: 1 } } }, 'bert')).toBe(
      'dist/asset-images/bert',
    );
  });
});
