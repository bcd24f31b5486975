import { configDefaults, defineConfig } from 'vitest/config';

// The e2e files that touch the Docker engine (load, build, buildx, the store's ids): the e2e-docker26 project runs
// them again against dockerd 26 with the containerd image store (the e2e project runs everything on 20.10).
export const DOCKER_E2E_FILES = [
  'e2e/asset-image.spec.ts',
  'e2e/buildx.spec.ts',
  'e2e/codecs.spec.ts',
  'e2e/docker-build.spec.ts',
  'e2e/docker-load.spec.ts',
  'e2e/docker-platforms.spec.ts',
  'e2e/platforms.spec.ts',
  'e2e/registry-store.spec.ts',
  'e2e/services.spec.ts',
  'e2e/tags-and-pins.spec.ts',
];

// What each other Node line runs besides the unit suite (`npm run test:node-line`, .ci/run): the e2e tests whose result
// can depend on the Node version. The packed plugin installed into fresh Nx 24, 22 and 23 workspaces and used through
// real nx (README commands: build with worker-thread hashing, load, push, docker-build), and codec detection (zstd exists
// from Node 22.15: built and loaded where Node has it, a clear error where it does not).
export const NODE_LINE_E2E_FILES = ['e2e/readme-workspace.spec.ts', 'e2e/nx-versions.spec.ts', 'e2e/codecs.spec.ts'];

const e2e = {
  environment: 'node' as const,
  globalSetup: ['e2e/support/global-setup.ts'],
  testTimeout: 300_000,
  hookTimeout: 300_000,
  fileParallelism: false,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.spec.ts'],
          environment: 'node',
          testTimeout: 30_000,
        },
      },
      // buildx.spec needs Docker 26 (20.10 has no buildx): e2e-docker26 runs it, the 20.10 pass leaves it out instead of skipping it.
      { test: { name: 'e2e', include: ['e2e/**/*.spec.ts'], exclude: [...configDefaults.exclude, 'e2e/buildx.spec.ts'], ...e2e } },
      { test: { name: 'e2e-node', include: NODE_LINE_E2E_FILES, ...e2e } },
      // Run on its own (`vitest run --project e2e-docker26`): its global setup points Docker at dockerd 26.
      { test: { name: 'e2e-docker26', include: DOCKER_E2E_FILES, ...e2e } },
    ],
  },
});
