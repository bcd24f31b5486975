import { runDocker, type DockerCliOptions } from './docker-cli';

/** What the engine says of itself: its server version and `os/architecture`. */
export interface DockerEngineInfo {
  version: string;
  /** `os/architecture` of the daemon, e.g. `linux/amd64`: the platform it builds for and pulls by default. */
  platform: string;
}

/** The engine's server version and platform when one answers within `timeoutMs`, else undefined (no CLI, no daemon, no permission). */
export async function dockerEngine(options: DockerCliOptions & { timeoutMs?: number } = {}): Promise<DockerEngineInfo | undefined> {
  const run = await runDocker(['version', '--format', '{{.Server.Version}} {{.Server.Os}}/{{.Server.Arch}}'], {
    ...options,
    timeoutMs: options.timeoutMs ?? 5000,
  }).catch(() => undefined);
  return parseEngineLine(run?.stdout ?? '');
}

/** `<version> <os>/<arch>` as `docker version --format` prints it; undefined for anything else (no server part). */
export function parseEngineLine(line: string): DockerEngineInfo | undefined {
  const match = /^(\S+) ([a-z0-9_]+\/[a-z0-9_]+)$/.exec(line.trim());
  return match ? { version: match[1]!, platform: match[2]! } : undefined;
}

/**
 * The platform Docker builds and pulls for when a command names none: `DOCKER_DEFAULT_PLATFORM`
 * (the CLI's own setting) when set, else the engine's.
 */
export function defaultDockerPlatform(engine: DockerEngineInfo, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['DOCKER_DEFAULT_PLATFORM']?.trim();
  return configured ? configured : engine.platform;
}

/** Where the engine keeps images: the classic graph-driver store, or containerd's image store (Docker 24+ opt-in, 29 default). */
export type DockerImageStore = 'classic' | 'containerd';

/** `docker info`'s DriverStatus (JSON) read as the image store: containerd's names its snapshotter `io.containerd.snapshotter.v1`. */
export function imageStoreOf(driverStatusJson: string): DockerImageStore {
  return /containerd/i.test(driverStatusJson) ? 'containerd' : 'classic';
}

/** The engine's image store; undefined when `docker info` does not answer. */
export async function dockerImageStore(options: DockerCliOptions = {}): Promise<DockerImageStore | undefined> {
  const info = await runDocker(['info', '--format', '{{json .DriverStatus}}'], options).catch(() => undefined);
  return info ? imageStoreOf(info.stdout) : undefined;
}
