import type { NxJsonConfiguration, PluginConfiguration } from '@nx/devkit';
import { normalizePluginOptions, type AssetImagesPluginOptions } from '../../nx/plugin-options';
import { isPluginSpecifier } from '../../workspace/workspace-facts';

export type { AssetImagesPluginOptions };

export function isAssetImagesPlugin(entry: PluginConfiguration): boolean {
  return isPluginSpecifier(typeof entry === 'string' ? entry : entry.plugin);
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
  const names = normalizePluginOptions(pluginOptionsOf(nxJson));
  return { image: names.assetImageTargetName, push: names.assetPushTargetName };
}
