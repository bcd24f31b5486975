/** Options of `nx g nx-asset-images:init` (mirrors schema.json). A .ts file, not .d.ts: tsc does not copy .d.ts files into dist/. */
export interface InitGeneratorSchema {
  /** Skip formatting the files the generator changed. */
  skipFormat?: boolean;
}
