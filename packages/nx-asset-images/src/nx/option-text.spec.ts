import { describe, expect, it } from 'vitest';
import { optionAsWritten, optionsAsWritten, OptionTextLostError, taskOverrideWords } from './option-text';

const argv = (...args: string[]): string[] => ['g', 'nx-asset-images:asset', ...args];

describe('optionAsWritten', () => {
  it.each<[string, string | number | undefined, string[], boolean, string | undefined]>([
    ['a string is kept', '0.1', argv('--tags=0.1'), false, '0.1'],
    ['undefined stays undefined', undefined, argv(), false, undefined],
    ['--tags=0.1', 0.1, argv('m', '--tags=0.1'), false, '0.1'],
    ['--tags=1', 1, argv('m', '--tags=1'), false, '1'],
    ['--tags=1.0 is 1.0, not 1', 1, argv('m', '--tags=1.0'), false, '1.0'],
    ['--tags=2.10 is 2.10, not 2.1', 2.1, argv('m', '--tags=2.10'), false, '2.10'],
    ['--tags 0.10 (separate word)', 0.1, argv('m', '--tags', '0.10'), false, '0.10'],
    ['kebab-case flag of a camelCase option', 3, argv('--some-option=3.0'), false, '3.0'],
    ['a positional word', 2024, argv('2024', '--image=a/b'), true, '2024'],
    ['a positional word is not taken for a named option', 2024, argv('2024', '--tags=2024.0'), false, '2024.0'],
  ])('%s', (_name, value, args, positional, expected) => {
    const option = _name.startsWith('kebab') ? 'someOption' : 'tags';
    expect(optionAsWritten(option, value, args, positional)).toBe(expected);
  });

  it.each<[string, number, string[]]>([
    ['not on the command line (nx.json defaults, a programmatic call)', 0.1, argv('m')],
    ['two texts for one number', 1, argv('--tags=1.0', '--tags=1')],
    ['another number on the command line', 2, argv('--tags=1.0')],
  ])('refuses to guess: %s', (_name, value, args) => {
    expect(() => optionAsWritten('tags', value, args)).toThrow(OptionTextLostError);
    expect(() => optionAsWritten('tags', value, args)).toThrow(`Invalid --tags ${value}: it arrived as the number`);
  });
});

describe('optionsAsWritten', () => {
  it('reads back each named option and each number in an array, leaving the rest alone', () => {
    const options = { name: 7, tags: [1, 'latest'], directory: 'assets/x', image: 'a/b', gitignoreLargeFiles: true };
    expect(
      optionsAsWritten(options, ['name', 'tags', 'directory'], argv('7', '--tags=1.0', '--tags=latest'), { positional: 'name' }),
    ).toEqual({
      name: '7',
      tags: ['1.0', 'latest'],
      directory: 'assets/x',
      image: 'a/b',
      gitignoreLargeFiles: true,
    });
  });

  it('reads back numbers in an object option from dotted flags (--buildArgs.V=1.0)', () => {
    expect(optionsAsWritten({ buildArgs: { V: 1, NAME: 'x' } }, ['buildArgs'], ['--buildArgs.V=1.0', '--buildArgs.NAME=x'])).toEqual({
      buildArgs: { V: '1.0', NAME: 'x' },
    });
    expect(() => optionsAsWritten({ buildArgs: { V: 1 } }, ['buildArgs'], [])).toThrow('--buildArgs.V 1');
  });

  it('makes a lone number of an array option a list, as Nx makes a lone string one', () => {
    expect(optionsAsWritten({ tags: 1 as unknown as string[] }, ['tags'], ['--tags=1.0'], { arrays: ['tags'] })).toEqual({ tags: ['1.0'] });
  });

  it('adds no key for an absent option', () => {
    expect(Object.keys(optionsAsWritten({ image: 'a/b' } as { image: string; tags?: string }, ['tags'], argv()))).toEqual(['image']);
  });
});

describe('taskOverrideWords', () => {
  const task = (id: string, overrides: Record<string, unknown>) => ({ [id]: { id, overrides } });
  it.each<[string, Record<string, unknown>, string | undefined, string[]]>([
    ['the run task', task('api:push', { tags: 1, __overrides_unparsed__: ['--tags=1.0'] }), undefined, ['--tags=1.0']],
    ['a configuration', task('api:push:prod', { __overrides_unparsed__: ['--tags=2.10'] }), 'prod', ['--tags=2.10']],
    ['no task of this target', task('web:push', { __overrides_unparsed__: ['--tags=1.0'] }), undefined, []],
    ['no overrides kept', task('api:push', {}), undefined, []],
  ])('%s', (_name, tasks, configurationName, expected) => {
    const context = { projectName: 'api', targetName: 'push', configurationName, taskGraph: { tasks, roots: [], dependencies: {} } };
    expect(taskOverrideWords(context as unknown as Parameters<typeof taskOverrideWords>[0])).toEqual(expected);
  });
});
