/**
 * Contents of the files the asset generator writes. Pure: strings in, strings out.
 * (No `files/` templates: tsc does not copy them into dist/, strings keep the package self-contained.)
 */
import { posix } from 'node:path';
import type { AssetSource } from './asset-options';

/** Extensions of large weight files; an asset's .gitignore keeps them out of git. */
export const LARGE_FILE_PATTERNS = ['*.bin', '*.safetensors', '*.gguf', '*.onnx', '*.pt', '*.pth', '*.ckpt', '*.h5', '*.msgpack'] as const;

/** The asset's own files, never ignored. */
export const ASSET_OWN_FILES = ['asset.json', 'asset.lock.json', 'README.md'] as const;

export const ASSET_GITIGNORE_HEADING =
  '# Large weight files stay out of git: nx-asset-images hashes them itself and pins their sha256 in asset.lock.json (commit that file).';

export function assetGitignoreEntries(): string[] {
  return [...LARGE_FILE_PATTERNS, ...ASSET_OWN_FILES.map((file) => `!${file}`)];
}

/** `$schema` of a generated asset.json: relative path from the asset folder to the schema in node_modules. */
export function assetSchemaPath(directory: string): string {
  return posix.relative(directory, 'node_modules/nx-asset-images/asset.schema.json');
}

export interface AssetManifestInput {
  directory: string;
  name: string;
  image: string;
  tags: string[];
  sources: AssetSource[];
  /** Globs to leave out of the image (the generated .gitignore, for one). */
  exclude?: string[];
}

/** The asset.json object, keys in the documented order. */
export function assetManifest(input: AssetManifestInput): Record<string, unknown> {
  const manifest: Record<string, unknown> = {
    $schema: assetSchemaPath(input.directory),
    name: input.name,
    image: input.image,
    tags: input.tags,
  };
  if (input.exclude !== undefined && input.exclude.length > 0) manifest['exclude'] = input.exclude;
  if (input.sources.length > 0) manifest['sources'] = input.sources.map(manifestSource);
  return manifest;
}

/** A source as asset.json lists it: url, sha256, path, then size when known. */
export function manifestSource({ url, sha256, path, size }: AssetSource): AssetSource {
  return size === undefined ? { url, sha256, path } : { url, sha256, path, size };
}

/** The line an app's Dockerfile uses to take the asset. */
export function copyFromLine(imageWithTag: string, source: string, destination: string): string {
  return `COPY --from=${imageWithTag} ${source} ${destination}`;
}

export interface AssetReadmeInput {
  name: string;
  image: string;
  tag: string;
  sources: AssetSource[];
  imageTarget: string;
  pushTarget: string;
}

export function assetReadme(input: AssetReadmeInput): string {
  const { name, image, tag, imageTarget, pushTarget } = input;
  const sourcesLine =
    input.sources.length > 0
      ? `\nRemote files listed in \`sources\` are downloaded by the build and checked against their sha256:\n${input.sources
          .map((s) => `- \`${s.path}\` from ${s.url}`)
          .join('\n')}\n`
      : '';
  return `# ${name}

An asset image built by [nx-asset-images](https://www.npmjs.com/package/nx-asset-images): the files in this
folder (all but \`asset.json\`, \`asset.lock.json\` and this README, see \`files\` and \`exclude\` in
\`asset.json\`) become a \`FROM scratch\` OCI image, \`${image}\`.
${sourcesLine}
\`asset.lock.json\` pins the sha256 of the local files. Nx keeps it up to date (sync generator
\`nx-asset-images:lock\`); commit it together with the files, and run \`nx sync:check\` in CI.

## Build and push

\`\`\`sh
nx run ${name}:${imageTarget}   # build the image (cached by content)
nx run ${name}:${pushTarget}    # push it to ${image}
\`\`\`

## Use it in an app image

\`\`\`dockerfile
${copyFromLine(`${image}:${tag}`, '/', `/assets/${name}`)}
\`\`\`

or let Nx add that line: \`nx g nx-asset-images:use-asset --project=<app> --asset=${name}\`.
The app then depends on this asset in the project graph, and \`nx affected\` follows changes of the files.
`;
}
