/** The stat cache's formats as pure functions: the base, the journal, the diff a save appends and its replay. */
import { describe, expect, it } from 'vitest';
import {
  CACHE_VERSION,
  applyJournal,
  diffStatCache,
  journalLimit,
  journalText,
  keptOf,
  parseJournal,
  parseStatCache,
  serializeStatCache,
  viewBefore,
  type JournalRow,
  type ParsedCache,
  type StatCacheEntry,
} from './stat-cache-format';

const stamp = { dev: '1', ino: '2', size: '3', mtimeNs: '4', ctimeNs: '5' };
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const asset = '/w/asset';
const entry = (sha256 = A, more: Partial<StatCacheEntry> = {}): StatCacheEntry => ({ stamp, sha256, size: 3, ...more });
const cacheOf = (entries: [string, StatCacheEntry][] = [], seen: [string, string][] = []): ParsedCache => ({
  entries: new Map(entries.map(([path, e]) => [`${asset}/${path}`, e])),
  seen: new Map(seen.map(([path, sha]) => [`${asset}/${path}`, sha])),
});
const copyOf = (cache: ParsedCache): ParsedCache => ({ entries: new Map(cache.entries), seen: new Map(cache.seen) });

describe('base format', () => {
  const entries = new Map([
    [`${asset}/b.bin`, entry()],
    [`${asset}/dir/a.bin`, entry(B, { layers: { k: A } })],
    ['/store/sources/x', entry()],
  ]);
  const seen = new Map([[`${asset}/gone.bin`, B]]);

  it('round-trips, one row a line, paths relative to the asset folder (absolute outside it), in path order', () => {
    const text = serializeStatCache(asset, entries, seen);
    expect(text.split('\n')).toEqual([
      `nxai-stat-cache\t3\t"${asset}"`,
      `e\t/store/sources/x\t1\t2\t3\t4\t5\t${A}`,
      `e\tb.bin\t1\t2\t3\t4\t5\t${A}`,
      `e\tdir/a.bin\t1\t2\t3\t4\t5\t${B}\t{"k":"${A}"}`,
      `s\tgone.bin\t${B}`,
      'end\t4',
      '',
    ]);
    expect(parseStatCache(text, asset)).toEqual({ entries, seen });
  });

  it('writes a path that would not fit a line as a JSON string', () => {
    const odd = new Map(
      ['tab\there', 'line\nbreak', 'back\\slash', '"quoted', 'plain "inner"'].map((name) => [`${asset}/${name}`, entry()]),
    );
    const text = serializeStatCache(asset, odd, new Map());
    expect(text).toContain('e\t"tab\\there"\t');
    expect(text).toContain('e\tplain "inner"\t');
    expect(parseStatCache(text, asset)).toEqual({ entries: odd, seen: new Map() });
  });

  const good = serializeStatCache(asset, entries, seen);
  const header = `nxai-stat-cache\t${CACHE_VERSION}\t"${asset}"`;
  const base = (...rows: string[]) => [header, ...rows, `end\t${rows.length}`, ''].join('\n');
  it.each([
    ['missing', undefined, 0],
    ['empty', '', 0],
    ['truncated', good.slice(0, good.length / 2), 0],
    ['without its last newline', good.slice(0, -1), 0],
    ['with a wrong row count', good.replace('end\t4', 'end\t3'), 0],
    ['JSON', '{"version":3}', 0],
    ['the legacy version 1', JSON.stringify({ version: 1, entries: { '/w/asset/a': { stamp, sha256: A, size: 3 } } }), 0],
    ['version 2 (one JSON file)', JSON.stringify({ version: 2, root: asset, entries: [['a', '1', '2', '3', '4', '5', A]], seen: [] }), 0],
    ['another version', base(`e\ta\t1\t2\t3\t4\t5\t${A}`).replace(`\t${CACHE_VERSION}\t`, '\t4\t'), 0],
    ['another asset root', serializeStatCache('/w/other', entries, seen), 0],
    ['a bad sha256', base('e\ta\t1\t2\t3\t4\t5\tzz'), 0],
    ['a stamp that is not decimal', base(`e\ta\t1\tx\t3\t4\t5\t${A}`), 0],
    ['too few fields', base(`e\ta\t1\t2\t3\t4\t${A}`), 0],
    ['bad layers', base(`e\ta\t1\t2\t3\t4\t5\t${A}\t{"k":"zz"}`), 0],
    ['a bad quoted path', base(`e\t"a\t1\t2\t3\t4\t5\t${A}`), 0],
    ['a delete row (journal only)', base('d\ta'), 0],
    ['one good row', base(`e\ta\t1\t2\t3\t4\t5\t${A}`), 1],
    ['one good row among bad ones', base('x', `e\ta\t1\t2\t3\t4\t5\t${A}`, ''), 1],
  ])('%s text gives %i entries, never throws', (_name, text, count) => {
    expect(parseStatCache(text, asset).entries.size).toBe(count);
  });
});

describe('journal format', () => {
  const rows: JournalRow[] = [
    { op: 'set', path: `${asset}/a.bin`, entry: entry(A, { layers: { k: B } }) },
    { op: 'set', path: '/store/sources/x', entry: entry(B) },
    { op: 'delete', path: `${asset}/old.bin` },
    { op: 'seen', path: `${asset}/gone.bin`, sha256: A },
    { op: 'unseen', path: `${asset}/forgotten.bin` },
  ];

  it('round-trips, one row a line, paths relative to the asset folder; each append starts on a line of its own', () => {
    const text = journalText(asset, rows);
    expect(text.split('\n')).toEqual([
      '',
      `e\ta.bin\t1\t2\t3\t4\t5\t${A}\t{"k":"${B}"}`,
      `e\t/store/sources/x\t1\t2\t3\t4\t5\t${B}`,
      'd\told.bin',
      `s\tgone.bin\t${A}`,
      'u\tforgotten.bin',
      '',
    ]);
    expect(parseJournal(text, asset)).toEqual(rows);
    expect(parseJournal(text + text, asset)).toEqual([...rows, ...rows]);
  });

  const line = journalText(asset, [rows[0]!]);
  it.each<[string, string | undefined, number]>([
    ['missing', undefined, 0],
    ['empty', '', 0],
    ['a torn last line (a crash mid-append)', journalText(asset, rows) + line.slice(0, 30), 5],
    ['a torn line followed by the next append', line.slice(0, 30) + journalText(asset, rows), 5],
    ['an unknown op', 'x\ta.bin\n', 0],
    ['a set row with a bad sha256', 'e\ta.bin\t1\t2\t3\t4\t5\tzz\n', 0],
    ['a seen row without its sha256', 's\ta.bin\n', 0],
    ['a delete row with an extra field', 'd\ta.bin\t1\n', 0],
    ['an empty path', 'd\t\n', 0],
    ['an empty quoted path', 'd\t""\n', 0],
    ['JSON', '["d","a.bin"]\n', 0],
  ])('%s gives %i rows, never throws', (_name, text, count) => {
    expect(parseJournal(text, asset)).toHaveLength(count);
  });
});

describe('diff and replay', () => {
  const changed = entry(A, { stamp: { ...stamp, mtimeNs: '9' } });
  it.each<[string, ParsedCache, ParsedCache, string[]]>([
    ['nothing changed', cacheOf([['a', entry()]], [['g', A]]), cacheOf([['a', entry()]], [['g', A]]), []],
    [
      'an entry stored',
      cacheOf([['a', entry()]]),
      cacheOf([
        ['a', entry()],
        ['b', entry(B)],
      ]),
      ['set b'],
    ],
    ['an entry changed', cacheOf([['a', entry()]]), cacheOf([['a', changed]]), ['set a']],
    ['layers added', cacheOf([['a', entry()]]), cacheOf([['a', entry(A, { layers: { k: B } })]]), ['set a']],
    [
      'an equal entry (another object) is not a change',
      cacheOf([['a', entry(A, { layers: { k: B } })]]),
      cacheOf([['a', entry(A, { layers: { k: B } })]]),
      [],
    ],
    [
      'an unused entry dropped',
      cacheOf([
        ['a', entry()],
        ['b', entry()],
      ]),
      cacheOf([['a', entry()]]),
      ['delete b'],
    ],
    ['a gone file becomes seen', cacheOf([['a', entry()]]), cacheOf([], [['a', A]]), ['delete a', 'seen a']],
    [
      'seen kept, one added',
      cacheOf([], [['g', A]]),
      cacheOf(
        [],
        [
          ['g', A],
          ['h', B],
        ],
      ),
      ['seen h'],
    ],
    ['seen with other content', cacheOf([], [['g', A]]), cacheOf([], [['g', B]]), ['seen g']],
    [
      'an unused seen path dropped',
      cacheOf(
        [],
        [
          ['g', A],
          ['h', A],
        ],
      ),
      cacheOf([], [['g', A]]),
      ['unseen h'],
    ],
    ['everything new', cacheOf(), cacheOf([['a', entry()]], [['g', A]]), ['set a', 'seen g']],
    ['everything gone', cacheOf([['a', entry()]], [['g', A]]), cacheOf(), ['delete a', 'unseen g']],
  ])('%s: rows %j, and their replay gives the cache a full rewrite would', (_name, loaded, current, expected) => {
    const rows = diffStatCache(loaded, keptOf(current));
    expect(rows.map((row) => `${row.op} ${row.path.slice(asset.length + 1)}`)).toEqual(expected);
    const replayed = applyJournal(
      parseStatCache(serializeStatCache(asset, loaded.entries, loaded.seen), asset),
      parseJournal(journalText(asset, rows), asset),
    );
    expect(replayed).toEqual(parseStatCache(serializeStatCache(asset, current.entries, current.seen), asset));
    expect(applyJournal(copyOf(loaded), rows)).toEqual(current);
  });

  it('reads the cache as loaded through the changes made since (viewBefore), without copying it', () => {
    const now = new Map([
      ['kept', 1],
      ['changed', 2],
      ['added', 3],
    ]);
    const before = new Map<string, number | undefined>([
      ['changed', 20],
      ['added', undefined],
      ['deleted', 40],
    ]);
    const view = viewBefore(now, before);
    expect([...view.keys()].sort()).toEqual(['changed', 'deleted', 'kept']);
    expect(['kept', 'changed', 'added', 'deleted'].map((key) => view.get(key))).toEqual([1, 20, undefined, 40]);
  });
});

describe('journalLimit', () => {
  it.each([
    [0, 1000],
    [8000, 1000],
    [8008, 1001],
    [100_000, 12_500],
  ])('a base of %i rows: compacted past %i journal rows', (baseRows, limit) => {
    expect(journalLimit(baseRows)).toBe(limit);
  });
});
