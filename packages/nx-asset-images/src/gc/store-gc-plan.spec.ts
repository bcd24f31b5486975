import { describe, expect, it } from 'vitest';
import type { Digest } from '../oci/image';
import { keptHistory, planStoreGc, type StoreListing } from './store-gc-plan';
import { staleContentTags } from './docker-content-tags';
import { withBuild, MAX_RECORDED, parseHistory } from './store-history';

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}` as Digest;
// Two versions of one asset: an index (i1, i2) over a manifest (m1, m2) with a config (c1, c2) and a
// shared layer (s) plus a layer of its own (l1, l2).
const children = new Map<Digest, Digest[]>([
  [d('a1'), [d('b1')]],
  [d('b1'), [d('c1'), d('e0'), d('f1')]],
  [d('a2'), [d('b2')]],
  [d('b2'), [d('c2'), d('e0'), d('f2')]],
]);
const blob = (c: string, size = 10) => ({ digest: d(c), size });
const listing: StoreListing = {
  blobs: ['a1', 'b1', 'c1', 'e0', 'f1', 'a2', 'b2', 'c2', 'f2', '99'].map((c) => blob(c)),
  index: [
    { digest: d('a1'), refName: 'asset/x:sha256-a1' },
    { digest: d('a2'), refName: 'asset/x:sha256-a2' },
    { digest: d('a2'), refName: 'asset/x:latest' },
  ],
  children,
  layerDigests: [
    { key: 'k1', digest: d('f1'), size: 1 },
    { key: 'k2', digest: d('f2'), size: 1 },
    { key: 'k3', digest: d('f3'), size: 1 },
  ],
  sources: [
    { sha256: 'aa'.repeat(32), size: 5, kind: 'entry', name: 'aa'.repeat(32) },
    { sha256: 'bb'.repeat(32), size: 5, kind: 'entry', name: 'bb'.repeat(32) },
    { sha256: 'bb'.repeat(32), size: 2, kind: 'partial', name: `${'bb'.repeat(32)}.part` },
    { sha256: 'cc'.repeat(32), size: 2, kind: 'partial', name: `${'cc'.repeat(32)}.part` },
  ],
};
const names = (items: readonly { digest?: Digest; key?: string; name?: string }[]) =>
  items.map((i) => i.name ?? i.key ?? i.digest!.slice(7, 9)).sort();

describe('planStoreGc', () => {
  it.each([
    {
      what: 'keeps the current version, removes the older one but not the layer they share',
      roots: [d('a2')],
      blobs: ['99', 'a1', 'b1', 'c1', 'f1'],
      index: ['a1'],
      layerDigests: ['k1', 'k3'],
    },
    { what: 'both versions kept (history)', roots: [d('a2'), d('a1')], blobs: ['99'], index: [], layerDigests: ['k3'] },
    {
      what: 'a lock names a manifest directly',
      roots: [d('b1')],
      blobs: ['99', 'a1', 'a2', 'b2', 'c2', 'f2'],
      index: ['a1', 'a2', 'a2'],
      layerDigests: ['k2', 'k3'],
    },
    {
      what: 'nothing named: everything goes',
      roots: [],
      blobs: ['99', 'a1', 'a2', 'b1', 'b2', 'c1', 'c2', 'e0', 'f1', 'f2'],
      index: ['a1', 'a2', 'a2'],
      layerDigests: ['k1', 'k2', 'k3'],
    },
  ])('$what', ({ roots, blobs, index, layerDigests }) => {
    const plan = planStoreGc(listing, { images: new Set(roots), sources: new Set() });
    expect(names(plan.removeBlobs)).toEqual(blobs);
    expect(names(plan.removeIndexEntries)).toEqual(index);
    expect(names(plan.removeLayerDigests)).toEqual(layerDigests);
  });

  it('keeps layer-digest entries of named layers whose blobs are absent (a lazy layout)', () => {
    const lazy = { ...listing, blobs: listing.blobs.filter((b) => b.digest !== d('f2')) };
    const plan = planStoreGc(lazy, { images: new Set([d('a2')]), sources: new Set() });
    expect(plan.removeLayerDigests.map((e) => e.key)).not.toContain('k2');
    expect(plan.named.has(d('f2'))).toBe(true);
  });

  it('keeps named sources and their partial downloads, removes the rest', () => {
    const plan = planStoreGc(listing, { images: new Set(), sources: new Set(['bb'.repeat(32)]) });
    expect(plan.removeSources.map((s) => s.name)).toEqual(['aa'.repeat(32), `${'cc'.repeat(32)}.part`]);
  });
});

describe('keptHistory', () => {
  it.each([
    { current: d('03'), history: [d('03'), d('02'), d('01')], size: 2, kept: [d('03'), d('02'), d('01')] },
    { current: d('03'), history: [d('03'), d('02'), d('01')], size: 1, kept: [d('03'), d('02')] },
    { current: d('03'), history: [d('03'), d('02'), d('01')], size: 0, kept: [d('03')] },
    // A cache hit restored an older result: the current one is kept, and the newest others.
    { current: d('01'), history: [d('03'), d('02'), d('01')], size: 1, kept: [d('01'), d('03')] },
    { current: undefined, history: [d('03'), d('02')], size: 1, kept: [d('03')] },
  ])('current $current, size $size', ({ current, history, size, kept }) => {
    expect(keptHistory(current, history, size)).toEqual(kept);
  });
});

describe('history record', () => {
  it('puts the newest first, moves a rebuilt digest to the front, stays bounded', () => {
    let builds = withBuild([], { digest: d('01'), time: 't1' });
    builds = withBuild(builds, { digest: d('02'), time: 't2' });
    builds = withBuild(builds, { digest: d('01'), time: 't3' });
    expect(builds.map((b) => b.time)).toEqual(['t3', 't2']);
    for (let i = 0; i < 40; i++) builds = withBuild(builds, { digest: d(i.toString(16).padStart(2, '0')), time: `${i}` });
    expect(builds).toHaveLength(MAX_RECORDED);
  });

  it('reads only well-formed entries', () => {
    expect(parseHistory('nonsense')).toEqual([]);
    expect(
      parseHistory(
        JSON.stringify({
          builds: [
            { digest: d('01'), time: 't' },
            { digest: 'x', time: 't' },
          ],
        }),
      ),
    ).toEqual([{ digest: d('01'), time: 't' }]);
  });
});

describe('staleContentTags', () => {
  it('removes only content tags of recorded builds not kept; never another tag, nor a build this workspace did not record', () => {
    const kept = d('ab');
    const keptTag = `sha256-${'ab'.repeat(10)}`;
    const oldTag = `sha256-${'cd'.repeat(10)}`;
    const otherClonesTag = `sha256-${'ef'.repeat(10)}`;
    const listed = [keptTag, oldTag, otherClonesTag, 'latest', '0.1', 'sha256-mine', `sha256-${'cd'.repeat(11)}`, `${oldTag}-patched`];
    expect(staleContentTags(listed, [kept], [kept, d('cd')])).toEqual([oldTag]);
  });
});
