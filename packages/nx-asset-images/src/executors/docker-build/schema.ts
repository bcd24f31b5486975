/** Options of the `docker-build` executor (see schema.json): the use case's own. */
export type { DockerBuildOptions as DockerBuildExecutorOptions } from '../../docker-build/docker-build-options';
