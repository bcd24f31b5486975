// What an asset-image build records: dist/asset-images/<project>/image.json of a workspace.
import { readFileSync } from 'node:fs';
import type { AssetImageResult } from '../../packages/nx-asset-images/src/asset/asset-image-result';
import type { Workspace } from './workspace';

export type { AssetImageResult };

/** The image.json of `project`'s last build in `ws` (throws when there is none). */
export function readResult(ws: Workspace, project: string): AssetImageResult {
  return JSON.parse(readFileSync(ws.path('dist/asset-images', project, 'image.json'), 'utf8')) as AssetImageResult;
}

/** A multi-platform build's record: `platforms` is there. */
export type IndexResult = AssetImageResult & Required<Pick<AssetImageResult, 'platforms'>>;

/** The image.json of `project`'s last build, which must be a multi-platform one (an index). */
export function readIndexResult(ws: Workspace, project: string): IndexResult {
  const result = readResult(ws, project);
  if (!result.platforms) throw new Error(`${project}: image.json records a single-platform build, not an index`);
  return result as IndexResult;
}
