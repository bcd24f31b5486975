import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizePluginOptions } from '../nx/plugin-options';
import { assetImageTarget, contentKeyCommand } from './asset-targets';
import { CONTENT_KEYS_ENV, contentKeyFileName } from '../content-index/key-env';

describe('asset-image target from the plugin options', () => {
  it.each([
    ['no options', undefined, {}],
    ['platforms', { platforms: ['linux/arm64'] }, { platforms: ['linux/arm64'] }],
    ['largeFileThreshold', { largeFileThreshold: 1024.5 }, { largeFileThreshold: 1024 }],
    ['both', { platforms: ['linux/amd64'], largeFileThreshold: 10 }, { platforms: ['linux/amd64'], largeFileThreshold: 10 }],
  ])('%s', (_, options, expected) => {
    const opts = normalizePluginOptions(options);
    const target = assetImageTarget('assets/x', 'x', opts.largeFileThreshold, opts.platforms);
    const { manifest: _m, outputPath: _o, ...rest } = target.options as Record<string, unknown>;
    // Target options are hashed by Nx: another platform list is another cache key.
    expect(rest).toEqual(expected);
  });
});

describe('the content key runtime input', () => {
  // Nx runs a runtime input with a shell and hashes what it prints, whatever its exit code.
  const run = (cwd: string, command: string, env: NodeJS.ProcessEnv = {}): string =>
    execSync(command, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, ...env }, shell: '/bin/sh' });
  const root = mkdtempSync(join(tmpdir(), 'nxai-key-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const command = contentKeyCommand('assets/x', 1024);

  it('prints a new line on every run when the key script cannot start (never a cache hit)', () => {
    const first = run(root, command);
    const second = run(root, command);
    expect(first).toMatch(/^asset-content-key failed \d+ 0\.\d+\n$/);
    expect(second).toMatch(/^asset-content-key failed /);
    expect(second).not.toBe(first);
  });

  it("prints the script's line, the same on every run, when it works", () => {
    mkdirSync(join(root, 'node_modules/nx-asset-images/dist/bin'), { recursive: true });
    writeFileSync(
      join(root, 'node_modules/nx-asset-images/dist/bin/asset-content-key.js'),
      'console.log("key", process.argv.slice(2).join(" "))\n',
    );
    expect(run(root, command)).toBe('key assets/x 1024\n');
    expect(run(root, command)).toBe('key assets/x 1024\n');
  });

  it("prints the index hook's line with shell builtins when its key folder has the asset's file, the script's otherwise", () => {
    const folder = join(root, 'keys');
    mkdirSync(folder);
    writeFileSync(join(folder, contentKeyFileName('assets/x')), 'nx-asset-images@0.1.0 content sha256:ab\n');
    writeFileSync(join(folder, contentKeyFileName('assets/x-y')), 'other\n');
    const keys = (value: string) => ({ [CONTENT_KEYS_ENV]: value });
    // The same text and newline as the script prints: a task hashed with and without the hook shares its cache.
    expect(run(root, command, keys(folder))).toBe('nx-asset-images@0.1.0 content sha256:ab\n');
    // No folder, an empty variable, a folder without this asset's file (another asset's is not this one's).
    expect(run(root, command, keys(''))).toBe('key assets/x 1024\n');
    expect(run(root, command, keys(join(root, 'gone')))).toBe('key assets/x 1024\n');
    expect(run(root, contentKeyCommand('assets/x-z', 1024), keys(folder))).toBe('key assets/x-z 1024\n');
    // An empty file (never written by the hook) is no key either.
    writeFileSync(join(folder, contentKeyFileName('assets/x')), '');
    expect(run(root, command, keys(folder))).toBe('key assets/x 1024\n');
  });

  it('prints nothing to stderr when the key folder lacks the file (Nx hashes stderr too)', () => {
    const out = execSync(command, {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, [CONTENT_KEYS_ENV]: join(root, 'gone') },
      shell: '/bin/sh',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toBe('key assets/x 1024\n');
  });
});
