import { describe, expect, it } from 'vitest';
import type { ProjectGraph, TargetConfiguration } from '@nx/devkit';
import { commandNamesTarget, targetsReaching } from './command-targets';

function graph(projects: Record<string, Record<string, TargetConfiguration['dependsOn']>>): Pick<ProjectGraph, 'nodes'> {
  const nodes: ProjectGraph['nodes'] = {};
  for (const [name, targets] of Object.entries(projects)) {
    nodes[name] = {
      name,
      type: 'lib',
      data: { root: name, targets: Object.fromEntries(Object.entries(targets).map(([t, dependsOn]) => [t, { dependsOn }])) },
    };
  }
  return { nodes };
}

describe('targetsReaching', () => {
  it.each<[string, Parameters<typeof graph>[0], string[]]>([
    ['only itself', { a: { 'asset-image': undefined, build: ['^build'] } }, ['asset-image']],
    ['^ form', { app: { 'docker-build': ['^asset-image'] } }, ['asset-image', 'docker-build']],
    [
      'plain form, transitively',
      { app: { deploy: ['docker-build'], 'docker-build': ['^asset-image'] } },
      ['asset-image', 'deploy', 'docker-build'],
    ],
    ['object form', { app: { ship: [{ target: 'asset-image', dependencies: true }] } }, ['asset-image', 'ship']],
    ['project:target form', { app: { pack: ['models:asset-image'] } }, ['asset-image', 'pack']],
    ['a pattern counts as reaching', { app: { all: ['build-*'], lint: ['^lint'] } }, ['all', 'asset-image']],
    [
      'an object without target (params only) is ignored',
      { app: { x: [{ projects: ['a'], target: undefined as unknown as string }] } },
      ['asset-image'],
    ],
  ])('%s', (_, projects, expected) => {
    expect([...targetsReaching(graph(projects), 'asset-image')].sort()).toEqual(expected);
  });
});

describe('commandNamesTarget', () => {
  const targets = new Set(['asset-image', 'docker-build']);
  it.each<[string[], boolean]>([
    [['run-many', '-t', 'asset-image'], true],
    [['run-many', '-t', 'lint,docker-build', '--parallel=2'], true],
    [['run-many', '--targets=build,asset-image'], true],
    [['run', 'models-bert:asset-image'], true],
    [['run', 'app:docker-build:production'], true],
    [['affected', '-t', 'docker-build'], true],
    [['docker-build', 'app'], true],
    [['run-many', '-t', 'lint', 'test'], false],
    [['run', 'app:build'], false],
    [['affected', '--target=test'], false],
  ])('%j → %s', (argv, expected) => {
    expect(commandNamesTarget(argv, targets)).toBe(expected);
  });
});
