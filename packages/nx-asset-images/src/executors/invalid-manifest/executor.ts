import { logger, type ExecutorContext } from '../../nx/devkit';

export interface InvalidManifestExecutorOptions {
  message: string;
}

/** Stands in for the targets of an asset whose asset.json does not validate: running it reports the error. */
export default async function invalidManifestExecutor(
  options: InvalidManifestExecutorOptions,
  _context: ExecutorContext,
): Promise<{ success: boolean }> {
  logger.error(options.message);
  return { success: false };
}
