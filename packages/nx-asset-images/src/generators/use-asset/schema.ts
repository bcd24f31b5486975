/** Options of `nx g nx-asset-images:use-asset` (mirrors schema.json). A .ts file, not .d.ts: tsc does not copy .d.ts files into dist/. */
export interface UseAssetGeneratorSchema {
  /** The app project whose Dockerfile takes the asset. */
  project: string;
  /** The asset project (a folder with asset.json). */
  asset: string;
  /** Directory inside the app image; `/assets/<asset>` when omitted. */
  destination?: string;
  /** Dockerfile path relative to the app's root; `Dockerfile` when omitted. */
  dockerfile?: string;
  skipFormat?: boolean;
}
