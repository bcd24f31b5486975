/**
 * Validating and normalising the asset generator's options. Pure: every
 * check runs before the generator writes anything.
 */
import { InvalidImageReferenceError, parseImageReference, withTag, type ImageReference } from '../../oci/image-reference';
import { normalizeSha256 } from '../../sources/remote-source';
import type { AssetGeneratorSchema } from './schema';
import { InvalidHubRefError, parseHubRef, type HubRef } from '../../hub/hub-ref';
import { parseGlobList, type HubSelection } from '../../hub/hub-selection';

/** A remote file pinned by checksum, as it goes into asset.json `sources`. */
export interface AssetSource {
  url: string;
  sha256: string;
  path: string;
  size?: number;
}

/** `--from` and its selection: the Hub revision whose files become `sources`. */
export interface HubImportRequest {
  ref: HubRef;
  selection: HubSelection;
}

export interface NormalizedAssetOptions {
  name: string;
  /** Workspace-relative folder, `/`-separated, no leading `./` or trailing `/`. */
  directory: string;
  /** The image repository as the user wrote it (validated, no tag or digest). */
  image: string;
  imageReference: ImageReference;
  tags: string[];
  sources: AssetSource[];
  /** `--from`: sources come from a Hub revision (then `sources` is empty until the import). */
  hub?: HubImportRequest;
  gitignoreLargeFiles: boolean;
  skipFormat: boolean;
}

/** A bad option value; `option` is the CLI flag name without `--`. */
export class InvalidAssetOptionError extends Error {
  override readonly name = 'InvalidAssetOptionError';
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Invalid --${option}${value === undefined ? '' : ` ${JSON.stringify(value)}`}: ${reason}`, options);
  }
}

const PROJECT_NAME_RE = /^(?:@[a-zA-Z0-9][\w.-]*\/)?[a-zA-Z0-9][\w.-]*$/;
/** Files the plugin keeps out of the image; a source must not land on them. */
export const RESERVED_FILES: ReadonlySet<string> = new Set(['asset.json', 'asset.lock.json', 'README.md']);

/** `a/b/`, `./a\\b` -> `a/b`; rejects absolute paths, `..` and empty results. */
export function normalizeRelativePath(option: string, input: string): string {
  const value = input.trim().replace(/\\/g, '/');
  if (value.startsWith('/') || /^[a-zA-Z]:\//.test(value)) {
    throw new InvalidAssetOptionError(option, input, 'must be relative to the workspace root (asset folder for --path), not absolute');
  }
  const parts = value.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new InvalidAssetOptionError(option, input, 'must not contain ".."');
  if (parts.length === 0) throw new InvalidAssetOptionError(option, input, 'is empty');
  return parts.join('/');
}

function parseTags(tags: string | string[] | undefined, imageReference: ImageReference): string[] {
  const given: unknown[] = Array.isArray(tags) ? tags : typeof tags === 'string' ? tags.split(',') : tags === undefined ? [] : [tags];
  for (const tag of given) {
    // Never String(1.0): a tag is the text the user wrote, and a number has lost it.
    if (typeof tag !== 'string')
      throw new InvalidAssetOptionError('tags', tag, 'expected text, as written (a number loses it: 1.0 is 1); quote it: "1.0"');
  }
  const list = (given as string[]).map((tag) => tag.trim()).filter((tag) => tag.length > 0);
  const unique = [...new Set(list)];
  for (const tag of unique) {
    try {
      withTag(imageReference, tag);
    } catch (error) {
      throw new InvalidAssetOptionError('tags', tag, 'not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})', { cause: error });
    }
  }
  return unique.length > 0 ? unique : ['latest'];
}

function parseSource(options: AssetGeneratorSchema): AssetSource[] {
  const given = { source: options.source, sha256: options.sha256, path: options.path };
  const present = Object.entries(given).filter(([, value]) => value !== undefined && value !== '');
  if (present.length === 0) return [];
  if (present.length !== 3) {
    const missing = Object.keys(given).filter((key) => !present.some(([name]) => name === key));
    throw new InvalidAssetOptionError(
      missing[0]!,
      undefined,
      `--source, --sha256 and --path go together (missing: ${missing.map((m) => `--${m}`).join(', ')})`,
    );
  }
  const url = options.source!.trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new InvalidAssetOptionError('source', url, 'not a URL', { cause: error });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new InvalidAssetOptionError('source', url, 'only http and https URLs are supported');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    // Not echoed back: the value holds a credential.
    throw new InvalidAssetOptionError(
      'source',
      undefined,
      'must not carry credentials; set a token in the environment instead (NX_ASSET_IMAGES_TOKEN_<HOST>)',
    );
  }
  const sha256 = normalizeSha256(options.sha256!.trim());
  if (sha256 === undefined) {
    throw new InvalidAssetOptionError(
      'sha256',
      options.sha256,
      'expected 64 hexadecimal digits (the output of `sha256sum`), optionally prefixed by "sha256:"',
    );
  }
  const path = normalizeRelativePath('path', options.path!);
  if (RESERVED_FILES.has(path)) {
    throw new InvalidAssetOptionError('path', path, `${path} is the asset's own file; choose another name`);
  }
  return [{ url, sha256, path }];
}

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

function parseImage(image: string | undefined): ImageReference {
  if (image === undefined || image.trim() === '') throw new InvalidAssetOptionError('image', image, 'is required');
  let reference: ImageReference;
  try {
    reference = parseImageReference(image.trim());
  } catch (error) {
    const reason = error instanceof InvalidImageReferenceError ? error.reason : String(error);
    throw new InvalidAssetOptionError('image', image, reason, { cause: error });
  }
  if (reference.tag !== undefined || reference.digest !== undefined) {
    throw new InvalidAssetOptionError(
      'image',
      image,
      `give the repository without ${reference.digest !== undefined ? 'a digest' : 'a tag'}; put tags in --tags`,
    );
  }
  return reference;
}

/** `--directory`, or `assets/<name>` (scope and `/` folded into `-`). */
export function assetDirectory(name: string, directory: string | undefined): string {
  return directory !== undefined && directory.trim() !== ''
    ? normalizeRelativePath('directory', directory)
    : `assets/${name.replace(/^@/, '').replace(/\//g, '-')}`;
}

/** `--from`, `--include`, `--exclude`; undefined without `--from`. Throws `InvalidAssetOptionError`. */
export function normalizeHubOptions(options: AssetGeneratorSchema): HubImportRequest | undefined {
  const from = options.from?.trim();
  if (from === undefined || from === '') {
    for (const option of ['include', 'exclude'] as const) {
      if (options[option] !== undefined) throw new InvalidAssetOptionError(option, options[option], 'goes with --from=hf://<org>/<repo>');
    }
    return undefined;
  }
  if (options.source !== undefined) throw new InvalidAssetOptionError('source', options.source, 'give either --source or --from, not both');
  try {
    const ref = parseHubRef(from);
    return { ref, selection: { include: parseGlobList(options.include), exclude: parseGlobList(options.exclude) } };
  } catch (error) {
    if (error instanceof InvalidHubRefError) throw new InvalidAssetOptionError('from', from, error.reason, { cause: error });
    throw error;
  }
}

/** Validates everything; throws `InvalidAssetOptionError` naming the option. */
export function normalizeAssetOptions(options: AssetGeneratorSchema): NormalizedAssetOptions {
  const name = (options.name ?? '').trim();
  if (!PROJECT_NAME_RE.test(name)) {
    throw new InvalidAssetOptionError('name', options.name, 'a project name is letters, digits, ".", "_" and "-" (optionally @scope/name)');
  }
  const imageReference = parseImage(options.image);
  const directory = assetDirectory(name, options.directory);
  return {
    name,
    directory,
    image: options.image!.trim(), // parseImage threw when absent
    imageReference,
    tags: parseTags(options.tags, imageReference),
    sources: parseSource(options),
    ...optional('hub', normalizeHubOptions(options)),
    gitignoreLargeFiles: options.gitignoreLargeFiles ?? false,
    skipFormat: options.skipFormat ?? false,
  };
}
