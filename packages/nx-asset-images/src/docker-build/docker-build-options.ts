/** What docker-build builds and how: the docker-build target's options (executors/docker-build/schema.json). Paths are relative to the workspace root. */
export interface DockerBuildOptions {
  dockerfile: string;
  /** Build context directory. */
  context: string;
  /** Names to tag the app image with. Default `<project>:latest`. */
  tags?: string[];
  /** `--build-arg` values; they also decide which asset images the Dockerfile's `ARG`-based references resolve to. */
  buildArgs?: Record<string, string>;
  target?: string;
  platform?: string;
  /** `--network` for RUN steps (`host`, `none`, `default`). */
  network?: string;
  /** `--pull`: default false, so that an asset tag is never replaced by a stale registry copy. */
  pull?: boolean;
  noCache?: boolean;
  /** buildx only: `--load` the result into Docker. Default true with buildx. */
  load?: boolean;
  /**
   * Hand asset images to BuildKit as `--build-context <ref>=oci-layout://...` instead of loading them into Docker.
   * Unset: yes when `docker buildx` is installed and the engine uses the containerd image store.
   */
  useBuildx?: boolean;
  /**
   * buildx only: compression of the layers exported into Docker. Unset: `uncompressed` on the containerd image
   * store; `default` leaves BuildKit's (gzip).
   */
  exportCompression?: 'uncompressed' | 'gzip' | 'zstd' | 'estargz' | 'default';
  /** Passed to `docker build` as they are, before the context. */
  extraArgs?: string[];
}
