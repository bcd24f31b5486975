/** Options of `nx g nx-asset-images:asset` (mirrors schema.json). A .ts file, not .d.ts: tsc does not copy .d.ts files into dist/. */
export interface AssetGeneratorSchema {
  /** Nx project name of the asset. */
  name: string;
  /** Folder of the asset, relative to the workspace root; `assets/<name>` when omitted. */
  directory?: string;
  /** Repository the image is known by, without tag (`registry.example.com/asset/models-bert`). Required to create an asset; not to update one `--from`. */
  image?: string;
  /** Tags besides the content tag; comma separated on the command line. `["latest"]` when omitted. */
  tags?: string | string[];
  /** URL of a remote file to pin in `sources`; needs `sha256` and `path`. */
  source?: string;
  /** sha256 (64 hex digits) of the remote file. */
  sha256?: string;
  /** Where the remote file goes, relative to the asset folder. */
  path?: string;
  /** `hf://<org>/<repo>[@<revision>]`: take the files of a Hugging Face model revision, pinned to its commit. */
  from?: string;
  /** With `from`: comma-separated globs of the files to take (default all). */
  include?: string | string[];
  /** With `from`: comma-separated globs of the files to leave out. */
  exclude?: string | string[];
  /** Write a .gitignore in the asset folder that keeps large weight files out of git. */
  gitignoreLargeFiles?: boolean;
  skipFormat?: boolean;
}
