/**
 * An asset project as the targets of other projects see it: docker-build
 * finds the assets a Dockerfile uses among them, asset-push the repositories
 * to mount shared layers from. Its image, and what its asset-image target
 * says. Plain data: the Nx glue finds it in the project configurations.
 */
import type { ImageReference } from '../oci/image-reference';

export interface AssetProject {
  /** Nx project name of the asset. */
  projectName: string;
  /** Asset folder, relative to the workspace root (posix). */
  root: string;
  /** Its image as asset.json names it. */
  reference: ImageReference;
  /** Directory of its asset-image result (image.json), relative to the workspace root. */
  resultDir: string;
  /** Its asset-image target's options: what a rebuild from the sources falls back on for a result that records no build parameters. */
  imageTargetOptions: Record<string, unknown>;
}

/** `repositoryKey(reference)` -> asset project. */
export type AssetProjectMap = ReadonlyMap<string, AssetProject>;
