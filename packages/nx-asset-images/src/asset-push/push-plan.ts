/**
 * The pure part of `asset-push`: options normalised against the environment,
 * the references to push, the repositories to mount from, and the summary
 * lines. No IO, no Nx.
 */
import type { AssetImageResult } from '../asset/asset-image-result';
import type { Digest } from '../oci/image';
import { formatImageReference, parseImageReference, repositoryKey, withDigest, withTag, type ImageReference } from '../oci/image-reference';
import { DEFAULT_MUTABLE_TAGS, insecureRegistriesFromEnv, type PushResult } from '../transports/registry';
import type { AssetPushOptions } from './asset-push-options';

/** Mount attempts cost one request per missing blob each: try a few repositories, not every asset. */
export const MAX_DEFAULT_MOUNT_SOURCES = 5;

export class AssetPushOptionsError extends Error {
  override readonly name = 'AssetPushOptionsError';
  constructor(
    readonly option: string,
    readonly reason: string,
  ) {
    super(`asset-push: option "${option}": ${reason}`);
  }
}

export interface NormalizedPushOptions {
  tags?: string[];
  mutableTags: string[];
  force: boolean;
  insecureRegistries: string[];
  concurrency: number;
  chunkSize?: number;
  mountFrom?: string[];
}

export function normalizePushOptions(options: AssetPushOptions, env: NodeJS.ProcessEnv = process.env): NormalizedPushOptions {
  const fromEnv = insecureRegistriesFromEnv(env);
  const insecure = [...new Set([...(options.insecureRegistries ?? []).map((s) => s.trim()).filter((s) => s !== ''), ...fromEnv])];
  for (const host of insecure) {
    if (/[/\s@]/.test(host))
      throw new AssetPushOptionsError('insecureRegistries', `expected a host or host:port, got ${JSON.stringify(host)}`);
  }
  const concurrency = options.concurrency ?? 3;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new AssetPushOptionsError('concurrency', `expected a whole number >= 1, got ${JSON.stringify(options.concurrency)}`);
  if (options.chunkSize !== undefined && (!Number.isInteger(options.chunkSize) || options.chunkSize < 1)) {
    throw new AssetPushOptionsError('chunkSize', `expected a whole number of bytes >= 1, got ${JSON.stringify(options.chunkSize)}`);
  }
  if (options.tags !== undefined && options.tags.length === 0)
    throw new AssetPushOptionsError('tags', 'empty list: nothing would be pushed (leave it out to push every tag)');
  if (options.mutableTags !== undefined && (!Array.isArray(options.mutableTags) || options.mutableTags.some((t) => typeof t !== 'string')))
    throw new AssetPushOptionsError('mutableTags', `expected a list of tags, got ${JSON.stringify(options.mutableTags)}`);
  if (options.force !== undefined && typeof options.force !== 'boolean')
    throw new AssetPushOptionsError('force', `expected true or false, got ${JSON.stringify(options.force)}`);
  return {
    insecureRegistries: insecure,
    mutableTags: [...(options.mutableTags ?? DEFAULT_MUTABLE_TAGS)],
    force: options.force === true,
    concurrency,
    ...(options.tags !== undefined ? { tags: [...new Set(options.tags)] } : {}),
    ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
    ...(options.mountFrom !== undefined ? { mountFrom: options.mountFrom } : {}),
  };
}

/** The repository the result names (registry normalised as Docker does). */
export function resultRepository(result: AssetImageResult): ImageReference {
  const parsed = parseImageReference(result.image);
  return { registry: parsed.registry, repository: parsed.repository };
}

/** `registry/repository:tag` for each tag to push (default: all of the result's tags, the content tag included). */
export function pushReferences(result: AssetImageResult, tags?: readonly string[]): ImageReference[] {
  const known = new Set([...result.tags, result.contentTag]);
  const wanted = tags ?? result.tags;
  const unknown = wanted.filter((t) => !known.has(t));
  if (unknown.length > 0) {
    throw new AssetPushOptionsError(
      'tags',
      `${unknown.map((t) => JSON.stringify(t)).join(', ')} not among the built image's tags (${[...known].join(', ')}); add them to asset.json "tags" and build again`,
    );
  }
  const repository = resultRepository(result);
  return [...new Set(wanted)].map((tag) => withTag(repository, tag));
}

/**
 * Explicit `mountFrom` entries: a repository path of the target registry
 * (`asset/other`) or a full name on it (`localhost:5000/asset/other`).
 * A name on another registry cannot be mounted from: an error.
 */
export function explicitMountSources(target: ImageReference, entries: readonly string[]): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    const first = entry.split('/')[0]!;
    const namesRegistry = entry.includes('/') && (/[.:]/.test(first) || first === 'localhost');
    if (namesRegistry && first.toLowerCase() !== target.registry.toLowerCase()) {
      throw new AssetPushOptionsError(
        'mountFrom',
        `${JSON.stringify(entry)} is on ${first}, not on ${target.registry}: a registry mounts only from its own repositories`,
      );
    }
    const path = namesRegistry ? entry.slice(first.length + 1) : entry;
    const repository = path.replace(/@.*$/, '').replace(/:[^/]*$/, '');
    if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) {
      throw new AssetPushOptionsError('mountFrom', `${JSON.stringify(entry)} is not a repository name`);
    }
    if (repository !== target.repository && !out.includes(repository)) out.push(repository);
  }
  return out;
}

export interface MountCandidate {
  /** The other asset's image (registry and repository). */
  reference: ImageReference;
  /** Its built layers' digests, when its result is on disk. */
  layers?: readonly Digest[];
}

/**
 * Default mount sources: the other asset images on the same registry; those
 * whose last build shares a layer with this image first, those known to share
 * nothing left out, at most `MAX_DEFAULT_MOUNT_SOURCES`.
 */
export function defaultMountSources(target: ImageReference, ourLayers: readonly Digest[], candidates: readonly MountCandidate[]): string[] {
  const ours = new Set(ourLayers);
  const sharing: string[] = [];
  const unknown: string[] = [];
  for (const candidate of candidates) {
    if (candidate.reference.registry.toLowerCase() !== target.registry.toLowerCase()) continue;
    if (repositoryKey(candidate.reference) === repositoryKey(target)) continue;
    const repository = candidate.reference.repository;
    if (sharing.includes(repository) || unknown.includes(repository)) continue;
    if (candidate.layers === undefined) unknown.push(repository);
    else if (candidate.layers.some((d) => ours.has(d))) sharing.push(repository);
  }
  return [...sharing, ...unknown].slice(0, MAX_DEFAULT_MOUNT_SOURCES);
}

/** A blob's label for progress lines: what it holds, not just its digest. */
export function blobLabels(result: AssetImageResult): Map<string, string> {
  const labels = new Map<string, string>();
  labels.set(result.configDigest, `config ${shortDigest(result.configDigest)}`);
  for (const layer of result.layers) {
    const files = layer.files.length === 1 ? layer.files[0]! : `${layer.files.length} files`;
    labels.set(layer.digest, `layer ${shortDigest(layer.digest)} (${files})`);
  }
  return labels;
}

export function shortDigest(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}

/** What the executor prints after a push: the manifest digest, each reference with its digest, the blob counts. */
export function pushSummaryLines(push: PushResult, refs: readonly ImageReference[], bytesUploaded: number, seconds: number): string[] {
  const size = (n: number): string => (n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : `${n} B`);
  return [
    `Pushed ${push.manifestDigest} in ${seconds.toFixed(2)} s: ${push.uploaded.length} blob(s) uploaded (${size(bytesUploaded)}), ${push.skipped.length} skipped (already there), ${push.mounted.length} mounted`,
    ...refs.map((ref) => `  ${formatImageReference(withDigest(ref, push.manifestDigest))}`),
  ];
}

/**
 * Removes every secret we know of from a message. Registry errors are
 * already redacted; this is the last guard before anything is printed.
 */
export function scrubSecrets(message: string, secrets: readonly (string | undefined)[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret && secret.length >= 3) out = out.split(secret).join('***');
  }
  return out;
}

/** A suggestion for the tag after `tag`: its last number plus one (`0.1` -> `0.2`, `v3` -> `v4`), else `<tag>-2`. */
export function nextVersion(tag: string): string {
  const match = /^(.*?)(\d+)(\D*)$/.exec(tag);
  if (!match) return `${tag}-2`;
  return `${match[1]}${Number(match[2]) + 1}${match[3]}`;
}
