/**
 * The plugin's own Docker tags of builds gc no longer keeps. Only a tag of the
 * exact content-tag form (`sha256-` and 20 hex, `contentTagFor`) in an asset's
 * repository is ever removed, only when its build is not kept, and only when
 * this workspace's history recorded that build: another clone sharing the
 * engine (a second worktree) keeps its content tags. Any other tag (`latest`,
 * `0.1`, one the user made) stays. `docker rmi <repo>:<tag>`
 * untags; Docker deletes the image only when that was its last tag.
 */
import { contentTagFor } from '../asset/image-references';
import type { Digest } from '../oci/image';
import { runDocker, type DockerCliOptions } from '../transports/docker-cli';

const CONTENT_TAG = /^sha256-[0-9a-f]{20}$/;

export function isContentTag(tag: string): boolean {
  return CONTENT_TAG.test(tag);
}

/** Tags of `listed` (as `docker image ls` printed them) to remove: content tags of `recorded` builds not in `kept`. */
export function staleContentTags(listed: readonly string[], kept: Iterable<Digest>, recorded: Iterable<Digest>): string[] {
  const keptTags = new Set([...kept].map(contentTagFor));
  const ownTags = new Set([...recorded].map(contentTagFor));
  return [...new Set(listed)].filter((tag) => isContentTag(tag) && ownTags.has(tag) && !keptTags.has(tag)).sort();
}

/** The engine's tags of `repository` (familiar form, e.g. `asset/bert`); undefined when no engine answers. */
export async function dockerTagsOf(repository: string, options: DockerCliOptions = {}): Promise<string[] | undefined> {
  try {
    const { stdout } = await runDocker(['image', 'ls', '--format', '{{.Tag}}', repository], { ...options, timeoutMs: 15_000 });
    return stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && line !== '<none>');
  } catch {
    return undefined;
  }
}

export async function removeDockerTag(reference: string, options: DockerCliOptions = {}): Promise<void> {
  await runDocker(['image', 'rm', reference], { ...options, timeoutMs: 60_000 });
}
