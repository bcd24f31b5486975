let ast: typeof import('dockerfile-ast') | undefined;

/** dockerfile-ast (and its vscode-languageserver dependencies, ~0.25 s) is loaded on first use, not on import. */
export function dockerfileAst(): typeof import('dockerfile-ast') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (ast ??= require('dockerfile-ast') as typeof import('dockerfile-ast'));
}
