import type { DockerCliOptions } from './docker-load';

/** The engine's server version when one answers within `timeoutMs`, else undefined (no CLI, no daemon, no permission). */
export async function dockerEngineVersion(options: DockerCliOptions & { timeoutMs?: number } = {}): Promise<string | undefined> {
  const { execa } = await import('execa');
  const env = options.dockerHost ? { ...process.env, DOCKER_HOST: options.dockerHost } : process.env;
  const result = await execa(options.dockerCommand ?? 'docker', ['version', '--format', '{{.Server.Version}}'], {
    env,
    reject: false,
    timeout: options.timeoutMs ?? 5000,
  });
  const version = String(result.stdout ?? '').trim();
  return result.failed || !version ? undefined : version;
}
