/**
 * Which files of a revision an import takes: `--include` and `--exclude`
 * globs (picomatch), as `snapshot_download`'s allow/ignore patterns.
 * A glob without `/` matches a file's name at any depth (`*.safetensors`
 * takes `onnx/model.safetensors` too, as huggingface_hub's fnmatch does);
 * with a `/` it matches the whole path (`onnx/**`). Dot files match.
 * `.gitattributes` is left out unless an include names it exactly. Pure.
 */
import picomatch from 'picomatch';
import type { HubFile } from './hub-listing';

export const DEFAULT_HUB_EXCLUDE: readonly string[] = ['.gitattributes'];

export interface HubSelection {
  /** Empty: every file. */
  include: readonly string[];
  exclude: readonly string[];
}

function matcher(globs: readonly string[]): (path: string) => boolean {
  if (globs.length === 0) return () => false;
  const tests = globs.map((glob) => picomatch(glob, { dot: true, basename: !glob.includes('/') }));
  return (path) => tests.some((test) => test(path));
}

/** The selected files, in listing order. */
export function selectHubFiles(files: readonly HubFile[], selection: HubSelection): HubFile[] {
  const included = selection.include.length === 0 ? () => true : matcher(selection.include);
  const defaults = DEFAULT_HUB_EXCLUDE.filter((path) => !selection.include.includes(path));
  const excluded = matcher([...defaults, ...selection.exclude]);
  return files.filter((file) => included(file.path) && !excluded(file.path));
}

/** `a,b, c` or a list -> trimmed non-empty globs. */
export function parseGlobList(value: string | readonly string[] | undefined): string[] {
  const list = value === undefined ? [] : typeof value === 'string' ? value.split(',') : value.flatMap((v) => v.split(','));
  return list.map((glob) => glob.trim()).filter((glob) => glob !== '');
}
