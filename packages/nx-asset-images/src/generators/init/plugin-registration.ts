import type { NxJsonConfiguration, PluginConfiguration } from '@nx/devkit';
import type { AssetImagesPluginOptions } from '../../nx/plugin-options';

export type { AssetImagesPluginOptions };

/** The name users register in nx.json `plugins`. */
export const PLUGIN_NAME = 'nx-asset-images';

export const DEFAULT_ASSET_IMAGE_TARGET = 'asset-image';
export const DEFAULT_ASSET_PUSH_TARGET = 'asset-push';

/** Entry points a user may register the plugin by: the package or its `./plugin` export. */
const PLUGIN_SPECIFIERS = new Set([PLUGIN_NAME, `${PLUGIN_NAME}/plugin`]);

export function isAssetImagesPlugin(entry: PluginConfiguration): boolean {
  const specifier = typeof entry === 'string' ? entry : entry.plugin;
  return PLUGIN_SPECIFIERS.has(specifier);
}

/** The registration of this plugin in nx.json, if any (string or object form). */
export function findPluginRegistration(nxJson: NxJsonConfiguration | null): PluginConfiguration | undefined {
  return nxJson?.plugins?.find(isAssetImagesPlugin);
}

/** Options of the registration; `{}` when registered as a string or not at all. */
export function pluginOptionsOf(nxJson: NxJsonConfiguration | null): AssetImagesPluginOptions {
  const entry = findPluginRegistration(nxJson);
  if (entry === undefined || typeof entry === 'string') return {};
  const options = entry.options;
  return options !== null && typeof options === 'object' ? (options as AssetImagesPluginOptions) : {};
}

/** Target names as the plugin infers them with the registered options. */
export function assetTargetNames(nxJson: NxJsonConfiguration | null): { image: string; push: string } {
  const options = pluginOptionsOf(nxJson);
  return {
    image: options.assetImageTargetName || DEFAULT_ASSET_IMAGE_TARGET,
    push: options.assetPushTargetName || DEFAULT_ASSET_PUSH_TARGET,
  };
}
