import { describe, expect, it } from 'vitest';
import type { HubFile } from './hub-listing';
import { parseGlobList, selectHubFiles } from './hub-selection';

const files: HubFile[] = [
  '.gitattributes',
  'README.md',
  'config.json',
  'model.safetensors',
  'pytorch_model.bin',
  'tokenizer.json',
  'tokenizer_config.json',
  'onnx/model.onnx',
  'onnx/model.safetensors',
  '.hidden/x.json',
].map((path) => ({ path, size: 1, gitOid: 'x' }));

describe('selectHubFiles', () => {
  it.each([
    ['everything but .gitattributes by default', [], [], files.slice(1).map((f) => f.path)],
    ['a name glob matches at any depth', ['*.safetensors'], [], ['model.safetensors', 'onnx/model.safetensors']],
    ['a path glob matches the path', ['onnx/**'], [], ['onnx/model.onnx', 'onnx/model.safetensors']],
    [
      'weights and tokenizer',
      ['*.safetensors', 'tokenizer*'],
      ['onnx/**'],
      ['model.safetensors', 'tokenizer.json', 'tokenizer_config.json'],
    ],
    ['exclude wins over include', ['*.json'], ['tokenizer*'], ['config.json', '.hidden/x.json']],
    ['dot folders match', ['.hidden/*'], [], ['.hidden/x.json']],
    ['.gitattributes when named exactly', ['.gitattributes', 'config.json'], [], ['.gitattributes', 'config.json']],
    ['.gitattributes not by a wide glob', ['*'], ['*.json', '*.bin', '*.onnx', '*.safetensors'], ['README.md']],
    ['nothing matches', ['*.gguf'], [], []],
  ])('%s', (_name, include, exclude, expected) => {
    expect(selectHubFiles(files, { include, exclude }).map((f) => f.path)).toEqual(expected);
  });
});

describe('parseGlobList', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['*.safetensors, tokenizer* ,', ['*.safetensors', 'tokenizer*']],
    [
      ['a,b', 'c'],
      ['a', 'b', 'c'],
    ],
  ])('%j', (value, expected) => {
    expect(parseGlobList(value)).toEqual(expected);
  });
});
