import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assetImagesFromManifestFiles, findAssetImagesInWorkspace } from './asset-images-in-workspace';

describe('findAssetImagesInWorkspace / assetImagesFromManifestFiles', () => {
  it('maps repository keys to asset project names and skips broken manifests with a warning', () => {
    const root = mkdtempSync(join(tmpdir(), 'aiw-'));
    try {
      const write = (path: string, text: string) => {
        mkdirSync(join(root, path, '..'), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      write('assets/models/bert/asset.json', '{"image":"registry.example.com/asset/models-bert"}');
      write('assets/tok/asset.json', '{"name":"tokenizer","image":"localhost:5000/asset/tok:1"}');
      write('assets/broken/asset.json', '{ nope');
      write('assets/dup/asset.json', '{"image":"localhost:5000/asset/tok"}');
      mkdirSync(join(root, 'apps/api'), { recursive: true });
      const warnings: string[] = [];
      const projects = {
        'models-bert-from-graph': { root: 'assets/models/bert', name: 'models-bert-from-graph' },
        tokenizer: { root: 'assets/tok' },
        broken: { root: 'assets/broken' },
        'z-dup': { root: 'assets/dup' },
        api: { root: 'apps/api' },
      };
      const map = findAssetImagesInWorkspace(projects, root, (m) => warnings.push(m));
      expect(Object.fromEntries([...map].map(([k, v]) => [k, v.projectName]))).toEqual({
        'registry.example.com/asset/models-bert': 'models-bert-from-graph',
        'localhost:5000/asset/tok': 'tokenizer',
      });
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toContain('assets/broken/asset.json');
      expect(warnings[1]).toMatch(/"tokenizer" and "z-dup" both use image localhost:5000\/asset\/tok/);

      const fromFiles = assetImagesFromManifestFiles(
        ['assets/models/bert/asset.json', 'assets/tok/asset.json', 'assets/broken/asset.json'],
        root,
        () => {},
      );
      expect(Object.fromEntries([...fromFiles].map(([k, v]) => [k, [v.projectName, v.root]]))).toEqual({
        'registry.example.com/asset/models-bert': ['assets-models-bert', 'assets/models/bert'],
        'localhost:5000/asset/tok': ['tokenizer', 'assets/tok'],
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
