/**
 * The repository keys a Dockerfile references (`FROM`, `COPY --from=`,
 * `RUN --mount=...,from=`), parsed once per file content: shared by the
 * Dockerfile nodes (createNodes) and the app -> asset edges
 * (createDependencies), which run in the same plugin worker, and kept across
 * runs in the graph cache, so a warm run neither parses nor loads the parser.
 */
import { parseDockerfile } from '../dockerfile/parse-dockerfile';
import { findImageReferences } from '../dockerfile/find-image-references';
import { repositoryKey } from '../oci/image-reference';
import { cacheKey, graphCache } from './graph-cache';

const CACHE_NAME = 'dockerfile-references';

/** Parses `text` (throws `DockerfileParseError` when the parser fails) and returns the distinct repository keys it references. */
export function parseRepositoryKeys(text: string, file: string): string[] {
  return [...new Set(findImageReferences(parseDockerfile(text, file)).map((r) => repositoryKey(r.reference)))];
}

/** `parseRepositoryKeys`, cached by the content of the file. Parse failures are not cached. */
export function dockerfileRepositoryKeysCached(text: string, file: string, workspaceRoot: string): readonly string[] {
  const cache = graphCache<string[]>(CACHE_NAME, workspaceRoot);
  const key = cacheKey('dockerfile-references', text);
  const cached = cache.get(key);
  if (cached) return cached;
  const keys = parseRepositoryKeys(text, file);
  cache.set(key, keys);
  return keys;
}

/** Writes the references cache of `workspaceRoot` if it changed. */
export function flushDockerfileReferences(workspaceRoot: string): Promise<void> {
  return graphCache(CACHE_NAME, workspaceRoot).flush();
}
