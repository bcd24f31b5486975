/**
 * The one way this package runs the docker CLI: which binary, the environment
 * (this process's, with `DOCKER_HOST` when an engine address is given),
 * stdin streamed from a pipeline, stdout and stderr captured (or passed
 * through for `docker build`), and one error for a failed command.
 * execa (already a dependency) does the process handling.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { coalesceChunks } from '../util/coalesce-chunks';

export interface DockerCliOptions {
  /** Engine address (`unix:///...`, `tcp://...`); default: the `DOCKER_HOST` of this process, else Docker's default. */
  dockerHost?: string;
  /** The docker CLI to run. Default `docker`. */
  dockerCommand?: string;
}

export interface DockerRunOptions extends DockerCliOptions {
  /** Streamed into docker's stdin, through `stdinThrough`; docker is killed when the stream fails. */
  stdin?: Readable;
  /** Pass-through stages between `stdin` and docker (e.g. a progress tap). */
  stdinThrough?: readonly NodeJS.ReadWriteStream[];
  /** Docker's stdin, stdout and stderr are this process's (its output shows as it comes; nothing is captured). */
  inheritOutput?: boolean;
  cwd?: string;
  timeoutMs?: number;
}

export interface DockerRunResult {
  stdout: string;
  stderr: string;
}

/** A docker command failed: to start, with a non-zero exit, by timeout, or while its stdin was streamed. */
export class DockerCommandError extends Error {
  override readonly name = 'DockerCommandError';
  constructor(
    /** The arguments after the binary. */
    readonly argv: readonly string[],
    readonly exitCode: number | undefined,
    /** What docker wrote to stderr ('' when its output was passed through). */
    readonly stderr: string,
    options: { cause?: unknown; reason?: string } = {},
  ) {
    super(
      `docker ${argv.join(' ')} failed${exitCode !== undefined ? ` (exit ${exitCode})` : ''}: ${options.reason ?? (stderr.trim() || 'no output')}`,
      { cause: options.cause },
    );
  }
}

/** The variables docker runs with on top of this process's environment: the one place they are decided. */
export function dockerEnvironment(options: DockerCliOptions): Record<string, string> {
  return options.dockerHost ? { DOCKER_HOST: options.dockerHost } : {};
}

/** Runs `docker <argv>` and returns its output; throws `DockerCommandError` (exit code, stderr, cause) when it fails. */
export async function runDocker(argv: readonly string[], options: DockerRunOptions = {}): Promise<DockerRunResult> {
  const { execa } = await import('execa');
  const child = execa(options.dockerCommand ?? 'docker', argv, {
    env: dockerEnvironment(options),
    reject: false,
    stripFinalNewline: true,
    maxBuffer: 16 * 1024 * 1024,
    ...(options.inheritOutput ? { stdio: 'inherit' as const } : { stdin: options.stdin ? ('pipe' as const) : ('ignore' as const) }),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
  });
  const feeding =
    options.stdin && child.stdin
      ? feed(options.stdin, options.stdinThrough ?? [], child.stdin, () => child.kill())
      : Promise.resolve(undefined);
  const [result, feedError] = await Promise.all([child, feeding]);
  const stderr = typeof result.stderr === 'string' ? result.stderr : '';
  if (feedError !== undefined && !isBrokenPipe(feedError)) {
    throw new DockerCommandError(argv, result.exitCode, stderr, {
      cause: feedError,
      reason: `streaming its input failed: ${(feedError as Error).message}`,
    });
  }
  if (result.failed) {
    const reason =
      options.inheritOutput && result.exitCode !== undefined ? "see Docker's output above" : stderr.trim() || result.shortMessage;
    throw new DockerCommandError(argv, result.exitCode, stderr, { cause: feedError ?? result, reason });
  }
  return { stdout: typeof result.stdout === 'string' ? result.stdout : '', stderr };
}

/** Resolves with the stream's error (undefined when it ended well); kills docker on failure so the command ends too. */
function feed(
  source: Readable,
  through: readonly NodeJS.ReadWriteStream[],
  stdin: NodeJS.WritableStream,
  kill: () => void,
): Promise<unknown> {
  // Small chunks joined before the pipe: one write per tar header or padding would cost a corpus a system call each.
  return pipeline([source, ...through, coalesceChunks(), stdin] as unknown as Parameters<typeof pipeline>[0][]).then(
    () => undefined,
    (error: unknown) => {
      kill();
      return error;
    },
  );
}

/** Docker stopped reading (it failed, or needs no more): its own exit tells what happened. */
function isBrokenPipe(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_DESTROYED';
}
