/**
 * This package's version, read once from its package.json (`src/util` and `dist/util` are both two levels
 * below the package root): part of every content key line and graph cache key, so an upgrade never reads
 * what the previous version computed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function readPackageVersion(): string {
  try {
    const version = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' && version !== '' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The package version, e.g. `0.1.0` (`unknown` when its package.json cannot be read). */
export const PLUGIN_PACKAGE_VERSION: string = readPackageVersion();

/** `nx-asset-images@<version>`: how content key lines and index rows name the builder. */
export const PLUGIN_VERSION = `nx-asset-images@${PLUGIN_PACKAGE_VERSION}`;
