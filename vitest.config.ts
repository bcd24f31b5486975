import { defineConfig } from 'vitest/config';

// The e2e files that touch the Docker engine (load, build, buildx, the store's ids): the e2e-docker26 project runs
// them again against dockerd 26 with the containerd image store (the e2e project runs everything on 20.10).
export const DOCKER_E2E_FILES = [
  'e2e/asset-image.spec.ts',
  'e2e/buildx.spec.ts',
  'e2e/docker-build.spec.ts',
  'e2e/docker-load.spec.ts',
  'e2e/docker-platforms.spec.ts',
  'e2e/platforms.spec.ts',
  'e2e/registry-store.spec.ts',
  'e2e/services.spec.ts',
  'e2e/tags-and-pins.spec.ts',
];

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
      { test: { name: 'e2e', include: ['e2e/**/*.spec.ts'], ...e2e } },
      // Run on its own (`vitest run --project e2e-docker26`): its global setup points Docker at dockerd 26.
      { test: { name: 'e2e-docker26', include: DOCKER_E2E_FILES, ...e2e } },
    ],
  },
});
