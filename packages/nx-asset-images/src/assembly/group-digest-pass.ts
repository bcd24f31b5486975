/**
 * The content key's hash pass (a runtime input, run before the task): the small files of a group it must read
 * anyway are read into the group's tar bytes and hashed there too (`readLayersOnce` into a `digestSink`), so the
 * group's layer digest comes from the same read and lands in the layer digest cache. The build that follows
 * then knows its image without reading again: under Nx a cold build without load reads each byte once, not
 * once for the key and once more for the group digests.
 *
 * Large files go to `hashFiles` as before (worker threads, their framed digest from the same read), alongside
 * the groups. A group whose files the stat cache all answers for is not read (a no-op stays a no-op), nor one
 * with a file not to read here (absent, remote). Should the group pass fail (a file changed while read), those
 * files are hashed the usual way, and nothing of the failed pass is remembered.
 */
import type { HashPass } from '../asset/analyze-asset';
import type { PlannedLayer } from '../asset/layer-plan';
import { hashFiles, type FileHash, type HashInputFile } from '../hashing/hasher';
import { cachedSha256, digestSink, readLayersOnce, type LayerReadOptions } from './layer-read-pass';

export function groupDigestHashPass(options: LayerReadOptions): HashPass {
  return async (files, hashOptions, plan) => {
    const byRelPath = new Map(files.filter((f) => f.stamped !== undefined && f.relPath !== undefined).map((f) => [f.relPath!, f]));
    const groups = plan.filter(
      (layer) =>
        layer.kind === 'small-files' &&
        layer.files.every((f) => byRelPath.has(f.relPath)) &&
        layer.files.some((f) => cachedSha256(byRelPath.get(f.relPath)!, hashOptions) === undefined),
    );
    if (groups.length === 0) return hashFiles(files, hashOptions);
    const inGroups = new Set(groups.flatMap((layer) => layer.files.map((f) => f.relPath)));
    const grouped = files.filter((f) => f.relPath !== undefined && inGroups.has(f.relPath));
    const others = files.filter((f) => f.relPath === undefined || !inGroups.has(f.relPath));
    const readGroups = async (): Promise<FileHash[]> => {
      try {
        return await readLayersOnce(digestSink(), grouped, hashOptions, groups as PlannedLayer[], options);
      } catch {
        return hashFiles(grouped, hashOptions); // changed while read: the usual hashing decides
      }
    };
    const [groupHashes, otherHashes] = await Promise.all([readGroups(), hashFiles(others, hashOptions)]);
    const byInput = new Map<HashInputFile, FileHash>();
    grouped.forEach((file, i) => byInput.set(file, groupHashes[i]!));
    others.forEach((file, i) => byInput.set(file, otherHashes[i]!));
    return files.map((file) => byInput.get(file)!);
  };
}
