#!/usr/bin/env node
// The folder layers of packages/nx-asset-images/src, checked in `npm run lint`
// (part of `npm test`) beside the import rules in eslint.config.mjs:
//   1. every folder is in LAYERS below; a new folder must be placed there;
//   2. a folder imports only folders of a lower layer, or of its own layer
//      when that adds no cycle (`import type` counts: a type is a dependency);
//   3. no import cycle between folders.
// Spec files are left out: a test may build its fixtures with a higher layer.
// Imports are read with TypeScript's own `preProcessFile` (static imports,
// re-exports, `import()` and `require()` of relative paths).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ts = createRequire(import.meta.url)('typescript');
const SRC = resolve(import.meta.dirname, '..', 'packages', 'nx-asset-images', 'src');

/** Bottom to top. */
export const LAYERS = [
  ['util'],
  ['errors'],
  ['oci'],
  ['tar', 'dockerfile', 'http', 'store'],
  ['transports'],
  ['hashing', 'sources', 'hub'],
  ['manifest', 'lock'],
  ['asset', 'workspace'],
  ['assembly'],
  ['resolve', 'content-index'],
  ['asset-image', 'asset-push', 'asset-pull', 'docker-build', 'gc'],
  ['nx'],
  ['plugin', 'executors', 'generators', 'bin'],
  ['.'], // the package entry, index.ts
];

const layerOf = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i])));

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith('.ts') && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts')) yield path;
  }
}

const folderOf = (file) => {
  const rel = relative(SRC, file);
  return rel.includes(sep) ? rel.split(sep)[0] : '.';
};

const problems = [];
const edges = new Map(); // folder -> Map(folder -> example "file -> import")
for (const file of sourceFiles(SRC)) {
  const from = folderOf(file);
  if (!layerOf.has(from)) problems.push(`${relative(SRC, file)}: folder "${from}" is not in tools/check-layers.mjs LAYERS; place it there`);
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  for (const { fileName } of importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const target = resolve(dirname(file), fileName);
    if (!target.startsWith(SRC)) continue;
    const to = folderOf(target.endsWith('.ts') || target.endsWith('.js') || target.endsWith('.json') ? target : `${target}.ts`);
    if (to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${relative(SRC, file)} imports ${fileName}`);
    if (layerOf.has(from) && layerOf.has(to) && layerOf.get(to) > layerOf.get(from)) {
      problems.push(
        `${relative(SRC, file)} imports ${fileName}: ${from}/ (layer ${layerOf.get(from)}) must not import ${to}/ (layer ${layerOf.get(to)}, above it)`,
      );
    }
  }
}

// Folder cycles (Tarjan's strongly connected components).
let index = 0;
const stack = [];
const state = new Map();
function strongConnect(v) {
  state.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!state.has(w)) {
      strongConnect(w);
      state.get(v).low = Math.min(state.get(v).low, state.get(w).low);
    } else if (state.get(w).onStack) state.get(v).low = Math.min(state.get(v).low, state.get(w).index);
  }
  if (state.get(v).low === state.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      state.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) {
      const inCycle = new Set(component);
      const examples = component.flatMap((a) =>
        [...(edges.get(a) ?? [])].filter(([b]) => inCycle.has(b)).map(([, example]) => `    ${example}`),
      );
      problems.push(`import cycle between folders ${component.sort().join(', ')}:\n${examples.join('\n')}`);
    }
  }
}
for (const v of edges.keys()) if (!state.has(v)) strongConnect(v);

if (problems.length > 0) {
  console.error(
    `check-layers: ${problems.length} problem(s) in ${relative(process.cwd(), SRC)}:\n${problems.map((p) => `- ${p}`).join('\n')}`,
  );
  process.exit(1);
}
console.log(
  `check-layers: ${edges.size} folders, ${[...edges.values()].reduce((n, m) => n + m.size, 0)} folder imports, no cycle, none upward`,
);
