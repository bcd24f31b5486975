import { describe, expect, it } from 'vitest';
import * as entry from '../index';
import * as plugin from './index';

describe('the package entry', () => {
  // nx.json may name the plugin as `nx-asset-images` (this entry) or `nx-asset-images/plugin`: Nx reads the same hooks from both.
  it.each(['createNodes', 'createNodesV2', 'createDependencies', 'preTasksExecution', 'postTasksExecution', 'name'])(
    'exports the plugin’s %s',
    (name) => {
      expect((entry as Record<string, unknown>)[name]).toBeDefined();
      expect((entry as Record<string, unknown>)[name]).toBe((plugin as Record<string, unknown>)[name]);
    },
  );
});
