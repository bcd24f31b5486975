import { runDocker, type DockerCliOptions } from './docker-cli';

/** The engine's server version when one answers within `timeoutMs`, else undefined (no CLI, no daemon, no permission). */
export async function dockerEngineVersion(options: DockerCliOptions & { timeoutMs?: number } = {}): Promise<string | undefined> {
  const run = await runDocker(['version', '--format', '{{.Server.Version}}'], { ...options, timeoutMs: options.timeoutMs ?? 5000 }).catch(
    () => undefined,
  );
  return run?.stdout.trim() || undefined;
}
