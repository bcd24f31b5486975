import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareAsset } from '../assembly/prepare-asset';
import { buildAsset } from '../asset-image/asset-build';
import type { AssetAnalysis } from '../asset/analyze-asset';
import { analysisColumns } from '../asset/analysis-columns';
import { assetBuildOptions } from '../asset/build-options';
import { DEFAULT_LARGE_FILE_THRESHOLD } from '../asset/layer-plan';
import { hashCounters } from '../hashing/hasher';
import { parseAssetManifest } from '../manifest/manifest';
import { contentKeyLine } from './content-key-line';
import { takeAnalysisHandover } from './analysis-handover';

const ASSET = 'assets/m';
const MANIFEST = `${ASSET}/asset.json`;
const THRESHOLD = 1000;

describe('the content key hands its analysis to the build', () => {
  let ws: string;
  const at = (rel: string) => join(ws, ASSET, rel);
  const write = (rel: string, data: string | Buffer) => {
    mkdirSync(dirname(at(rel)), { recursive: true });
    writeFileSync(at(rel), data);
  };
  const options = (env: NodeJS.ProcessEnv = {}, threshold = THRESHOLD) => assetBuildOptions(ws, { largeFileThreshold: threshold }, env);
  // No racy window: the files were written a moment ago (the row and the handover are saved only outside it).
  const key = () => contentKeyLine(ws, ASSET, THRESHOLD, 0n);
  const take = (env: NodeJS.ProcessEnv = {}, threshold = THRESHOLD) => {
    const text = readFileSync(join(ws, MANIFEST), 'utf8');
    return takeAnalysisHandover(options(env, threshold), parseAssetManifest(text, MANIFEST, ASSET), text);
  };
  const analyzed = () => prepareAsset(options(), MANIFEST, { sources: 'skip' });
  const storeFile = (extension: string) => {
    const dir = join(ws, '.asset-images', 'stat-cache');
    return join(
      dir,
      readdirSync(dir).find((name) => name.endsWith(extension))!,
    );
  };
  const handoverFile = () => storeFile('.handover');
  /** The analysis without what a build's own scan gives anew (the moment of the stat). */
  const comparable = (analysis: AssetAnalysis) => ({
    ...analysis,
    scanned: analysis.scanned?.map(({ statTimeNs: _, ...file }) => file),
  });
  const manifest = (fields: Record<string, unknown> = {}) =>
    write(
      'asset.json',
      JSON.stringify({ name: 'm', image: 'localhost:5000/asset/m', tags: ['0.1'], files: ['**/*.bin', '*.txt'], ...fields }),
    );

  beforeEach(() => {
    ws = mkdtempSync(join(tmpdir(), 'nxai-handover-'));
    manifest();
    write('weights/model.bin', Buffer.alloc(3000, 7));
    write('weights/small.bin', Buffer.alloc(10, 1));
    write('config.txt', 'hidden=4\n');
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('hands over exactly the analysis the usual path makes, absent and large files included, with the key line', async () => {
    // A build pins the files; then a clone without the weight: the weight is absent, its layer pinned.
    await buildAsset(options(), { manifestFile: MANIFEST, outputPath: 'dist/m', load: false, ociLayout: false });
    rmSync(at('weights/model.bin'));
    rmSync(join(ws, '.asset-images'), { recursive: true });
    const line = await key();
    const handed = await take();
    expect(handed).toBeDefined();
    expect(handed!.line).toBe(line);
    const usual = await analyzed();
    expect(usual.absent.map((file) => file.relPath)).toEqual(['weights/model.bin']);
    expect(usual.layers.some((layer) => layer.pinned !== undefined)).toBe(true);
    expect(comparable(handed!.analysis)).toEqual(comparable(usual));
  });

  it('is taken without reading a file, and the build from it gives the image the usual build gives', async () => {
    const build = () => buildAsset(options(), { manifestFile: MANIFEST, outputPath: 'dist/m', load: false, ociLayout: false });
    // A lock with the image pin first (the build saves no row: its files are within the racy window).
    await build();
    await key();
    const opened = hashCounters.filesOpened;
    expect(await take()).toBeDefined();
    expect(hashCounters.filesOpened).toBe(opened);
    const events: string[] = [];
    const reporter = {
      event: (event: { kind: string }) => events.push(event.kind),
      progress: () => ({ onProgress: () => {}, finish: () => {} }),
    };
    const fromHandover = await buildAsset(
      options(),
      { manifestFile: MANIFEST, outputPath: 'dist/m', load: false, ociLayout: false },
      reporter,
    );
    expect(events).toContain('analysis-handed-over');
    rmSync(handoverFile());
    events.length = 0;
    const usual = await buildAsset(options(), { manifestFile: MANIFEST, outputPath: 'dist/m', load: false, ociLayout: false }, reporter);
    expect(events).not.toContain('analysis-handed-over');
    expect(fromHandover.result.manifestDigest).toBe(usual.result.manifestDigest);
    expect(comparable(fromHandover.analysis)).toEqual(comparable(usual.analysis));
  });

  const refusals: [string, (context: { ws: string }) => void | Promise<void>, NodeJS.ProcessEnv?, number?][] = [
    ['a file rewritten after the key (same size)', () => write('weights/small.bin', Buffer.alloc(10, 2))],
    ['a new file', () => write('extra.txt', 'x')],
    ['a deleted file', () => rmSync(at('config.txt'))],
    ['the lock changed', () => write('asset.lock.json', '{"lockfileVersion":2,"files":{}}\n')],
    ['asset.json changed', () => manifest({ tags: ['0.2'] })],
    ['another SOURCE_DATE_EPOCH', () => {}, { SOURCE_DATE_EPOCH: '1700000000' }],
    ['another largeFileThreshold', () => {}, {}, 100],
    ['a corrupt handover file', () => writeFileSync(handoverFile(), 'not v8')],
    ['no handover file', () => rmSync(handoverFile())],
  ];
  it.each(refusals)('is not taken after %s', async (_, change, env = {}, threshold = THRESHOLD) => {
    await key();
    expect(await take()).toBeDefined();
    await change({ ws });
    expect(await take(env, threshold)).toBeUndefined();
  });

  it('is taken by a build that names the default large-file threshold where the key script got none (the executor schema does)', async () => {
    await contentKeyLine(ws, ASSET, undefined, 0n);
    expect(await take({}, DEFAULT_LARGE_FILE_THRESHOLD)).toBeDefined();
    expect(await take({}, DEFAULT_LARGE_FILE_THRESHOLD / 2)).toBeUndefined();
  });

  it('is not saved for an analysis with remote sources (the key skips them; the build fetches them)', () => {
    const usual = {
      manifest: { sources: [] },
      layers: [{ kind: 'small-files', files: [{ relPath: 'a', size: 1, mode: 0o644, sha256: '0'.repeat(64), origin: 'source' }] }],
      removed: [],
    } as unknown as AssetAnalysis;
    expect(analysisColumns(usual)).toBeUndefined();
  });
});
