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
import { cachedHash, hashFiles, type FileHash } from '../hashing/hasher';
import { digestSink, readLayersOnce, type LayerReadOptions } from './layer-read-pass';

export function groupDigestHashPass(options: LayerReadOptions): HashPass {
  return async (files, hashOptions, plan) => {
    // One stat cache lookup per file: what it answers for is the result, and a group is read only for a miss.
    const hits = files.map((file) => (file.stamped ? cachedHash(file, file.stamped.stamp, hashOptions.cache) : undefined));
    const byRelPath = new Map<string, number>();
    files.forEach((file, index) => {
      if (file.stamped !== undefined && file.relPath !== undefined) byRelPath.set(file.relPath, index);
    });
    const groups = plan.filter(
      (layer) =>
        layer.kind === 'small-files' &&
        layer.files.every((f) => byRelPath.has(f.relPath)) &&
        layer.files.some((f) => hits[byRelPath.get(f.relPath)!] === undefined),
    );
    const inGroups = new Set(groups.flatMap((layer) => layer.files.map((f) => byRelPath.get(f.relPath)!)));
    const grouped = [...inGroups].sort((a, b) => a - b);
    // Outside the groups read here: the hits as they are, the misses (large files, groups with absent files) hashed as usual.
    const missed = files.flatMap((_, index) => (inGroups.has(index) || hits[index] !== undefined ? [] : [index]));
    const readGroups = async (): Promise<FileHash[]> => {
      const inputs = grouped.map((index) => files[index]!);
      if (inputs.length === 0) return [];
      try {
        return await readLayersOnce(digestSink(), inputs, hashOptions, groups, options);
      } catch {
        return hashFiles(inputs, hashOptions); // changed while read: the usual hashing decides
      }
    };
    const [groupHashes, missedHashes] = await Promise.all([
      readGroups(),
      hashFiles(
        missed.map((index) => files[index]!),
        hashOptions,
      ),
    ]);
    const results = hits.slice() as (FileHash | undefined)[];
    grouped.forEach((index, i) => (results[index] = groupHashes[i]!));
    missed.forEach((index, i) => (results[index] = missedHashes[i]!));
    return results as FileHash[];
  };
}
