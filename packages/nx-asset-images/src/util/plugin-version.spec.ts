import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PLUGIN_PACKAGE_VERSION, PLUGIN_VERSION } from './plugin-version';

describe('plugin version', () => {
  it("is the package's own version, read from its package.json", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { name: string; version: string };
    expect(pkg.name).toBe('nx-asset-images');
    expect(PLUGIN_PACKAGE_VERSION).toBe(pkg.version);
    expect(PLUGIN_VERSION).toBe(`nx-asset-images@${pkg.version}`);
  });
});
