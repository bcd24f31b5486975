import type { PreTasksExecution } from '@nx/devkit';
import { readCachedProjectGraph } from '../nx/nx-api';
import { normalizePluginOptions, type AssetImagesPluginOptions } from '../nx/plugin-options';
import { commandNamesTarget, targetsReaching } from '../nx/command-targets';
import { CONTENT_INDEX_ENV, CONTENT_KEYS_ENV, contentKeyFileName } from '../content-index/key-env';
import { ASSET_IMAGE_EXECUTOR } from '../workspace/workspace-facts';

/** Assets whose index rows are checked at once. */
const CONCURRENCY = 8;

/**
 * The content index, once per Nx command, before Nx hashes any task: the key
 * line of every asset whose scan matches its index row goes into this
 * command's key folder (`content-index/key-folder.ts`), named by one variable,
 * which the asset-image runtime input reads with shell builtins instead of
 * starting node. A changed or unindexed asset gets no file: its runtime input
 * computes the key (and saves its row), so this hook never reads file content,
 * and a command pays for hashing only the assets it runs.
 *
 * Nx records what the hook assigns to `process.env` and hashes tasks with it
 * (its return value is ignored); it runs in a plugin worker that exits after
 * the command, so the index lives on disk. A command that cannot run an
 * asset-image task (by its argv and the targets' `dependsOn`) does nothing.
 */
export const preTasksExecution: PreTasksExecution<AssetImagesPluginOptions> = async (options, context) => {
  // First, whatever else happens: a folder this hook did not write for this command (inherited from an outer nx) is
  // never used.
  process.env[CONTENT_KEYS_ENV] = '';
  if (process.env[CONTENT_INDEX_ENV] === 'off') return;
  let graph: ReturnType<typeof readCachedProjectGraph>;
  try {
    graph = readCachedProjectGraph();
  } catch {
    return; // no graph on disk: every runtime input computes its own key
  }
  const targetName = normalizePluginOptions(options).assetImageTargetName;
  const argv = (context as { argv?: string[] }).argv; // absent from some Nx versions' context: then any command may
  if (argv !== undefined && !commandNamesTarget(argv, targetsReaching(graph, targetName))) return;
  const roots = Object.values(graph.nodes)
    .filter((node) => Object.values(node.data.targets ?? {}).some((target) => target.executor === ASSET_IMAGE_EXECUTOR))
    .map((node) => node.data.root);
  if (roots.length === 0) return;
  // Loaded here, not at plugin load: the graph of every nx command would pay for them.
  const [{ indexedContentKeyLine }, { keyFoldersDirOf, pruneKeyFolders, writeKeyFolder }, { assetStorePaths }] = await Promise.all([
    import('../content-index/indexed-key-line.js'),
    import('../content-index/key-folder.js'),
    import('../asset/asset-store.js'),
  ]);
  const store = assetStorePaths(context.workspaceRoot);
  const lines = new Map<string, string>();
  const queue = [...roots];
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
      for (let root = queue.shift(); root !== undefined; root = queue.shift()) {
        const line = await indexedContentKeyLine(context.workspaceRoot, root, store);
        if (line !== undefined) lines.set(contentKeyFileName(root), line);
      }
    }),
  );
  if (lines.size === 0) return;
  const parent = keyFoldersDirOf(store.root);
  try {
    await pruneKeyFolders(parent);
    process.env[CONTENT_KEYS_ENV] = await writeKeyFolder(parent, lines);
  } catch {
    // A store we cannot write: every runtime input computes its own key.
  }
};
