// The boundaries of packages/nx-asset-images/src, checked in `npm test`
// (`npm run lint`). Each folder is one concept; these rules keep the layers:
//   oci/                     the image model: imports nothing of ours but util/
//   tar/, dockerfile/, store/  import nothing of ours but oci/ and util/
//   http/                    the one HTTP core: imports nothing of ours but util/
//   util/                    imports nothing of ours
//   the core (everything but the glue and the package entry index.ts) never imports the glue
//   only the Nx glue (plugin/, executors/, generators/, nx/) imports Nx
//   executors/ and generators/ never import plugin/
// tools/check-layers.mjs (also in `npm run lint`) holds the rest: every folder
// has a layer, none imports a folder above it, and no two folders import each other.
// Flat config replaces a rule's options per matching block, so each block
// below lists every restriction that applies to its files.
import tseslint from 'typescript-eslint';

const SRC = 'packages/nx-asset-images/src';
const GLUE = ['plugin', 'executors', 'generators', 'nx'];

const noNx = { regex: '^(nx|@nx/[^/]+)(/|$)', message: 'Only the Nx glue (plugin/, executors/, generators/, nx/) imports Nx.' };
const ociOnlyUtil = { regex: '^\\.\\./(?!util/)|^\\.\\./\\.\\./', message: 'oci/ imports nothing of this package but util/.' };
const pureOnlyOciUtil = {
  regex: '^\\.\\./(?!util/|oci/)|^\\.\\./\\.\\./',
  message: 'tar/, dockerfile/ and store/ import nothing of this package but oci/ and util/.',
};
const httpOnlyUtil = { regex: '^\\.\\./(?!util/)|^\\.\\./\\.\\./', message: 'http/ imports nothing of this package but util/.' };
const noGlue = {
  regex: `(^|/)(${GLUE.join('|')})(/|$)`,
  message: 'The core never imports the Nx glue (plugin/, executors/, generators/, nx/).',
};
const utilOnlyUtil = { regex: '^\\.\\./', message: 'util/ imports nothing of this package outside util/.' };
const noPlugin = {
  regex: '(^|/)plugin(/|$)',
  message: 'Executors and generators never import plugin/: move what they share into a neutral module.',
};

const restrict = (...patterns) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns: patterns.map((p) => ({ ...p, allowTypeImports: false })) }],
});

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.d.ts', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'off' },
  },
  { files: [`${SRC}/**/*.ts`], ignores: [...GLUE.map((g) => `${SRC}/${g}/**`), `${SRC}/index.ts`], rules: restrict(noNx, noGlue) },
  { files: [`${SRC}/oci/**/*.ts`], rules: restrict(noNx, ociOnlyUtil) },
  { files: ['tar', 'dockerfile', 'store'].map((d) => `${SRC}/${d}/**/*.ts`), rules: restrict(noNx, pureOnlyOciUtil) },
  { files: [`${SRC}/http/**/*.ts`], rules: restrict(noNx, httpOnlyUtil) },
  { files: [`${SRC}/util/**/*.ts`], rules: restrict(noNx, utilOnlyUtil) },
  { files: [`${SRC}/executors/**/*.ts`, `${SRC}/generators/**/*.ts`], rules: restrict(noPlugin) },
);
