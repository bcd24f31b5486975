/**
 * `asset.json`, version 1: parsed, validated against the shipped JSON Schema
 * (`asset.schema.json`), checked for what a schema cannot say, and normalised
 * with defaults applied. Pure apart from loading the schema once.
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parseImageReference, type ImageReference } from '../oci/image-reference';
import { parsePlatform, platformKey, type Platform } from '../oci/platform';
import type { Compression } from '../oci/layer-codecs';
import { AssetManifestError } from '../errors/asset-errors';
import { redactUrl } from '../util/redact-url';
import { tokenEnvVarName } from '../sources/source-auth';
import { jsonErrorOffset } from './manifest-json-position';

/** A remote file pinned by checksum. `path` is normalised (posix, relative, no `./`). */
export interface AssetSource {
  url: string;
  /** 64 lowercase hex characters. */
  sha256: string;
  path: string;
  size?: number;
}

/** A validated `asset.json` with defaults applied. */
export interface AssetManifest {
  /** Path of the `asset.json`, as given to the parser (used in messages). */
  file: string;
  /** The asset folder, relative to the workspace root, posix separators. */
  projectRoot: string;
  name: string;
  /** The image repository as written in `asset.json`. */
  image: string;
  tags: string[];
  files: string[];
  exclude: string[];
  /** Absolute, normalised, no trailing slash except for `/`. */
  destination: string;
  sources: AssetSource[];
  compression: Compression;
  /** Set in asset.json: the platforms to build for (else the plugin option's). */
  platforms?: Platform[];
  annotations: Record<string, string>;
}

export const ASSET_MANIFEST_FILE = 'asset.json';
export const DEFAULT_ASSET_FILES: readonly string[] = ['**/*'];
export const DEFAULT_ASSET_TAGS: readonly string[] = ['latest'];

/** The raw shape the schema admits. */
interface RawAssetManifest {
  $schema?: string;
  name?: string;
  image: string;
  tags?: string[];
  files?: string[];
  exclude?: string[];
  destination?: string;
  sources?: { url: string; sha256: string; path: string; size?: number }[];
  compression?: Compression;
  platforms?: string[];
  annotations?: Record<string, string>;
}

let validator: ValidateFunction | undefined;

/** Path of the JSON Schema shipped with the package (works from `src/` and from `dist/`). */
export function assetSchemaPath(): string {
  return join(__dirname, '..', '..', 'asset.schema.json');
}

function getValidator(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(readFileSync(assetSchemaPath(), 'utf8')) as object;
    // Required on first use, not at module load: the plugin (project graph) imports this
    // file for its constants, and ajv costs ~0.25 s to load.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Ajv = (require('ajv') as typeof import('ajv')).default;
    // The shipped schema is checked against draft-07's meta-schema by its spec, not in every process: half the compile.
    validator = new Ajv({ allErrors: false, strict: true, verbose: true, validateSchema: false }).compile(schema);
  }
  return validator;
}

/**
 * What the tolerant mode of `parseAssetManifest` makes of an `asset.json`: `name`, `image`
 * and `tags` as far as they can be read, and why the image is unusable if it is. For the
 * project graph, where one broken manifest must not break the others: no schema, no ajv.
 */
export type AssetManifestSummary =
  | { ok: true; name?: string; image: string; reference: ImageReference; tags: string[] }
  | { ok: false; name?: string; tags: string[]; reason: string };

/**
 * Parses, validates and normalises the text of an `asset.json`. Throws `AssetManifestError` naming `file` and the field.
 * With `{ tolerant: true }`: reads only `name`, `image` and `tags`, never throws (see `AssetManifestSummary`).
 */
export function parseAssetManifest(text: string, file: string, projectRoot: string): AssetManifest;
export function parseAssetManifest(text: string, file: string, projectRoot: string, mode: { tolerant: true }): AssetManifestSummary;
export function parseAssetManifest(
  text: string,
  file: string,
  projectRoot: string,
  mode?: { tolerant: true },
): AssetManifest | AssetManifestSummary {
  return mode?.tolerant ? summarise(text) : parseStrict(text, file, projectRoot);
}

function parseStrict(text: string, file: string, projectRoot: string): AssetManifest {
  const data = parseJson(text, file);
  const validate = getValidator();
  if (!validate(data)) {
    throw schemaError(file, data, validate.errors ?? []);
  }
  const raw = data as RawAssetManifest;
  return {
    file,
    projectRoot: normaliseProjectRoot(projectRoot),
    name: raw.name ?? defaultAssetName(projectRoot),
    image: checkImage(file, raw.image),
    tags: [...(raw.tags ?? DEFAULT_ASSET_TAGS)],
    files: checkGlobs(file, 'files', raw.files ?? [...DEFAULT_ASSET_FILES]),
    exclude: checkGlobs(file, 'exclude', raw.exclude ?? []),
    destination: checkDestination(file, raw.destination ?? '/'),
    sources: checkSources(file, raw.sources ?? []),
    compression: raw.compression ?? 'none',
    ...(raw.platforms ? { platforms: checkPlatforms(file, raw.platforms) } : {}),
    annotations: { ...(raw.annotations ?? {}) },
  };
}

/** `os/architecture[/variant]` each, every platform once (`linux/arm64` and `linux/arm64/v8` are one). */
function checkPlatforms(file: string, platforms: readonly string[]): Platform[] {
  const seen = new Map<string, number>();
  return platforms.map((value, i) => {
    // The schema has checked the pattern.
    const platform = parsePlatform(value);
    const key = platformKey(platform);
    if (seen.has(key))
      throw new AssetManifestError(file, `platforms[${i}]`, `each platform once (${key} is platforms[${seen.get(key)}] too)`, value);
    seen.set(key, i);
    return platform;
  });
}

function summarise(text: string): AssetManifestSummary {
  let data: unknown;
  try {
    data = JSON.parse(withoutBom(text));
  } catch (error) {
    return {
      ok: false,
      tags: [...DEFAULT_ASSET_TAGS],
      reason: `not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    return { ok: false, tags: [...DEFAULT_ASSET_TAGS], reason: 'not a JSON object' };
  const record = data as Record<string, unknown>;
  const name = typeof record['name'] === 'string' && record['name'] !== '' ? { name: record['name'] } : {};
  const tags =
    Array.isArray(record['tags']) && record['tags'].every((t) => typeof t === 'string')
      ? (record['tags'] as string[])
      : [...DEFAULT_ASSET_TAGS];
  const image = record['image'];
  if (typeof image !== 'string' || image === '') return { ok: false, ...name, tags, reason: '"image" is missing or not a string' };
  try {
    return { ok: true, ...name, image, reference: parseImageReference(image), tags };
  } catch (error) {
    return { ok: false, ...name, tags, reason: `"image": ${error instanceof Error ? error.message : String(error)}` };
  }
}

function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function normaliseProjectRoot(projectRoot: string): string {
  const posixRoot = projectRoot
    .replace(/\\/g, '/')
    .replace(/^\.\/+/, '')
    .replace(/\/+$/, '');
  return posixRoot === '' ? '.' : posixRoot;
}

/** The default project name: the folder path with `/` replaced by `-` (`assets/models/bert` → `assets-models-bert`). */
export function defaultAssetName(projectRoot: string): string {
  const root = normaliseProjectRoot(projectRoot);
  return root === '.' ? 'asset' : root.replace(/\//g, '-');
}

function parseJson(text: string, file: string): unknown {
  const body = withoutBom(text);
  try {
    return JSON.parse(body);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = jsonErrorOffset(body) ?? Number(/position (\d+)/.exec(message)?.[1] ?? body.length);
    const { line, column } = lineAndColumn(body, position);
    throw new AssetManifestError(file, '', `valid JSON (line ${line}, column ${column}: ${message})`, undefined, { cause: error });
  }
}

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

/** `/sources/1/sha256` → `sources[1].sha256` */
export function jsonPointerToField(pointer: string): string {
  let field = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) field += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) field += field === '' ? part : `.${part}`;
    else field += `[${JSON.stringify(part)}]`;
  }
  return field;
}

function valueAt(data: unknown, pointer: string): unknown {
  let value: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const FIELD_EXPECTATIONS: Record<string, string> = {
  sha256: 'a sha256: 64 hex characters',
};

function schemaError(file: string, data: unknown, errors: ErrorObject[]): AssetManifestError {
  const error = errors[0];
  if (!error) return new AssetManifestError(file, '', 'a valid asset manifest');
  const field = jsonPointerToField(error.instancePath);
  const value = valueAt(data, error.instancePath);
  const join = (parent: string, child: string) => (parent === '' ? child : `${parent}.${child}`);
  const key = error.instancePath.split('/').pop() ?? '';
  switch (error.keyword) {
    case 'additionalProperty':
    case 'additionalProperties': {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const expected = known.length > 0 ? `a known field (${known.join(', ')})` : 'no such field';
      return new AssetManifestError(file, join(field, extra), expected, extra);
    }
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      return new AssetManifestError(file, join(field, missing), 'a value (the field is required)');
    }
    case 'type':
      return new AssetManifestError(file, field, `${(error.params as { type: string }).type}`, value);
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      return new AssetManifestError(file, field, `one of ${allowed.join(', ')}`, value);
    }
    case 'pattern':
      return new AssetManifestError(
        file,
        field,
        FIELD_EXPECTATIONS[key] ??
          (error.parentSchema as { description?: string } | undefined)?.description ??
          `a string matching ${(error.params as { pattern: string }).pattern}`,
        value,
      );
    case 'minLength':
      return new AssetManifestError(file, field, 'a non-empty string', value);
    case 'minItems':
      return new AssetManifestError(file, field, 'a non-empty array', value);
    case 'minimum':
      return new AssetManifestError(file, field, `a number >= ${(error.params as { limit: number }).limit}`, value);
    case 'uniqueItems':
      return new AssetManifestError(file, field, 'no duplicate items', value);
    default:
      return new AssetManifestError(file, field, error.message ?? 'a valid value', value);
  }
}

function checkImage(file: string, image: string): string {
  let ref;
  try {
    ref = parseImageReference(image);
  } catch (error) {
    const reason = error instanceof Error && 'reason' in error ? String((error as { reason: unknown }).reason) : String(error);
    throw new AssetManifestError(file, 'image', `an image repository like "registry.example.com/asset/bert" (${reason})`, image, {
      cause: error,
    });
  }
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new AssetManifestError(file, 'image', 'a repository without tag or digest (list tags in "tags")', image);
  }
  return image;
}

function isAbsoluteish(path: string): boolean {
  return path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:/.test(path);
}

function hasDotDot(path: string): boolean {
  return path.split(/[/\\]/).includes('..');
}

function checkGlobs(file: string, fieldName: 'files' | 'exclude', globs: string[]): string[] {
  globs.forEach((glob, index) => {
    const pattern = glob.startsWith('!') ? glob.slice(1) : glob;
    if (isAbsoluteish(pattern)) {
      throw new AssetManifestError(file, `${fieldName}[${index}]`, 'a glob relative to the asset folder (not absolute)', glob);
    }
    if (hasDotDot(pattern)) {
      throw new AssetManifestError(file, `${fieldName}[${index}]`, 'a glob inside the asset folder (no ".." segment)', glob);
    }
  });
  return [...globs];
}

function checkDestination(file: string, destination: string): string {
  if (!destination.startsWith('/')) {
    throw new AssetManifestError(file, 'destination', 'an absolute directory inside the image (starting with "/")', destination);
  }
  if (hasDotDot(destination) || destination.includes('\\')) {
    throw new AssetManifestError(file, 'destination', 'an absolute posix directory without ".." segments', destination);
  }
  const normalised = posix.normalize(destination);
  return normalised.length > 1 ? normalised.replace(/\/+$/, '') : normalised;
}

function checkSources(file: string, sources: NonNullable<RawAssetManifest['sources']>): AssetSource[] {
  const seen = new Map<string, number>();
  return sources.map((source, index) => {
    const field = `sources[${index}]`;
    let url: URL;
    try {
      url = new URL(source.url);
    } catch (error) {
      throw new AssetManifestError(file, `${field}.url`, 'an absolute http(s) URL', redactUrl(source.url), { cause: error });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new AssetManifestError(file, `${field}.url`, 'an http or https URL', redactUrl(url));
    }
    if (url.username !== '' || url.password !== '') {
      // Tokens come from the environment only (docs/graph-and-hashing.md, "Remote sources"); the value is shown without them.
      throw new AssetManifestError(
        file,
        `${field}.url`,
        `a URL without user:password@ (put a token in ${tokenEnvVarName(url.hostname)} instead)`,
        redactUrl(url),
      );
    }
    const path = source.path;
    if (isAbsoluteish(path)) {
      throw new AssetManifestError(file, `${field}.path`, 'a path relative to the destination (not absolute)', path);
    }
    if (hasDotDot(path) || path.includes('\\')) {
      throw new AssetManifestError(file, `${field}.path`, 'a posix path inside the destination (no ".." segment, no "\\")', path);
    }
    const normalised = posix.normalize(path);
    if (normalised === '.' || path.endsWith('/')) {
      throw new AssetManifestError(file, `${field}.path`, 'a file path (not a directory)', path);
    }
    for (const [other, otherIndex] of seen) {
      if (other === normalised) {
        throw new AssetManifestError(file, `${field}.path`, `a path not already used by sources[${otherIndex}].path`, path);
      }
      if (other.startsWith(`${normalised}/`) || normalised.startsWith(`${other}/`)) {
        throw new AssetManifestError(
          file,
          `${field}.path`,
          `a path that is neither a parent nor a child of sources[${otherIndex}].path (${JSON.stringify(other)})`,
          path,
        );
      }
    }
    seen.set(normalised, index);
    const result: AssetSource = { url: source.url, sha256: source.sha256.toLowerCase(), path: normalised };
    if (source.size !== undefined) result.size = source.size;
    return result;
  });
}
