/** What asset-push pushes and how: the asset-push target's options (executors/asset-push/schema.json). Paths are relative to the workspace root. */
export interface AssetPushOptions {
  /** The asset's asset.json; default `<projectRoot>/asset.json`. */
  manifest?: string;
  /** Directory holding the asset-image result (image.json); default the asset-image target's outputPath. */
  resultPath?: string;
  /** Which of the result's tags to push (the content tag is one of them); default all. */
  tags?: string[];
  /** Registry hosts reached over plain HTTP (loopback hosts always are); merged with NX_ASSET_IMAGES_INSECURE_REGISTRIES. */
  insecureRegistries?: string[];
  /** Blobs in flight at once (default 3). */
  concurrency?: number;
  /** Upload in PATCH chunks of this many bytes instead of one PUT per blob. */
  chunkSize?: number;
  /** Repositories of the same registry to mount shared blobs from; default the other asset images on that registry. */
  mountFrom?: string[];
  /** Tags that may move to other content; default `["latest"]`. Every other tag is a version and never moves. */
  mutableTags?: string[];
  /** Move version tags that name other content anyway (each move is printed). */
  force?: boolean;
}
