// Real Nx workspaces for end-to-end tests: a temp dir with package.json,
// nx.json registering the plugin, node_modules symlinked to this repo's
// (nothing downloaded), and a git repository with an initial commit.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { exec, ExecResult } from './exec';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const pluginDir = path.join(repoRoot, 'packages', 'nx-asset-images');
const repoModules = path.join(repoRoot, 'node_modules');

/** The nx CLI entry, relative to the nx package dir (from its package.json "bin"). */
function nxBinRelative(): string {
  const pkg = JSON.parse(readFileSync(path.join(repoModules, 'nx', 'package.json'), 'utf8')) as { bin: string | Record<string, string> };
  return typeof pkg.bin === 'string' ? pkg.bin : pkg.bin.nx;
}

export const DEFAULT_NX_JSON = { plugins: [{ plugin: 'nx-asset-images', options: {} }] };

export interface Workspace {
  readonly root: string;
  /** Absolute path of a workspace-relative path. */
  path(...parts: string[]): string;
  write(file: string, content: string | Buffer): Promise<void>;
  read(file: string): Promise<string>;
  dispose(): Promise<void>;
}

export class WorkspaceError extends Error {
  constructor(
    message: string,
    readonly root: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WorkspaceError';
  }
}

const GIT_ENV = { GIT_CONFIG_NOSYSTEM: '1' };

/**
 * Creates a workspace from `files` (workspace-relative path -> content).
 * Defaults, each replaced when `files` has the same path: `package.json`,
 * `nx.json` (registers nx-asset-images with `{}` options), `.gitignore`
 * (node_modules, .nx). A given `.gitignore` gets `/node_modules` and `/.nx`
 * appended. All files are committed ("initial").
 */
export interface CreateWorkspaceOptions {
  /** Symlink this repository's nx, @nx/* and plugin into node_modules (default true); false leaves node_modules to the test (e.g. `npm i` of the packed plugin). */
  linkNodeModules?: boolean;
}

export async function createWorkspace(
  files: Record<string, string | Buffer> = {},
  options: CreateWorkspaceOptions = {},
): Promise<Workspace> {
  const root = await mkdtemp(path.join(tmpdir(), 'nxai-ws-'));
  const ws = makeWorkspace(root);
  try {
    const all: Record<string, string | Buffer> = {
      'package.json': `${JSON.stringify({ name: 'e2e-workspace', version: '0.0.0', private: true }, null, 2)}\n`,
      'nx.json': `${JSON.stringify(DEFAULT_NX_JSON, null, 2)}\n`,
      ...files,
    };
    const ignore = files['.gitignore'] === undefined ? '' : `${files['.gitignore'].toString().replace(/\n?$/, '\n')}`;
    all['.gitignore'] = `${ignore}/node_modules\n/.nx\n`;

    const link = options.linkNodeModules ?? true;
    if (link && usesPlugin(all['nx.json']) && !existsSync(path.join(pluginDir, 'dist', 'index.js'))) {
      throw new WorkspaceError(`${pluginDir}/dist/index.js is missing: run "npm run build" first`, root);
    }
    for (const [file, content] of Object.entries(all)) await ws.write(file, content);
    if (link) await linkNodeModules(root);

    await git(ws, 'init', '-q', '-b', 'main');
    await git(ws, 'config', 'user.name', 'nxai e2e');
    await git(ws, 'config', 'user.email', 'e2e@nxai.invalid');
    await git(ws, 'config', 'commit.gpgsign', 'false');
    await git(ws, 'add', '-A');
    await git(ws, 'commit', '-q', '-m', 'initial');
    return ws;
  } catch (cause) {
    await ws.dispose();
    if (cause instanceof WorkspaceError) throw cause;
    throw new WorkspaceError(`could not create e2e workspace: ${String(cause)}`, root, { cause });
  }
}

function usesPlugin(nxJson: string | Buffer | undefined): boolean {
  return nxJson !== undefined && nxJson.toString().includes('nx-asset-images');
}

/** A Workspace over an existing folder (a clone made by a test). */
export function openWorkspace(root: string): Workspace {
  return makeWorkspace(root);
}

function makeWorkspace(root: string): Workspace {
  const resolve = (...parts: string[]): string => {
    const p = path.resolve(root, ...parts);
    if (p !== root && !p.startsWith(root + path.sep)) throw new WorkspaceError(`${parts.join('/')} is outside the workspace`, root);
    return p;
  };
  return {
    root,
    path: resolve,
    async write(file, content) {
      const p = resolve(file);
      await mkdir(path.dirname(p), { recursive: true });
      await writeFile(p, content);
    },
    read: (file) => readFile(resolve(file), 'utf8'),
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

/** node_modules/{nx, @nx/*, nx-asset-images} as symlinks into this repo. */
async function linkNodeModules(root: string): Promise<void> {
  const nm = path.join(root, 'node_modules');
  await mkdir(path.join(nm, '@nx'), { recursive: true });
  await symlink(path.join(repoModules, 'nx'), path.join(nm, 'nx'), 'dir');
  for (const name of readdirSync(path.join(repoModules, '@nx'))) {
    await symlink(path.join(repoModules, '@nx', name), path.join(nm, '@nx', name), 'dir');
  }
  await symlink(pluginDir, path.join(nm, 'nx-asset-images'), 'dir');
  await mkdir(path.join(nm, '.bin'), { recursive: true });
  await symlink(path.join('..', 'nx', nxBinRelative()), path.join(nm, '.bin', 'nx'));
  // The plugin's own command (`npx nx-asset-images gc`), executable as npm's install would make it.
  const cli = path.join(pluginDir, 'dist', 'bin', 'nx-asset-images.js');
  if (existsSync(cli)) {
    await chmod(cli, 0o755);
    await symlink(path.join('..', 'nx-asset-images', 'dist', 'bin', 'nx-asset-images.js'), path.join(nm, '.bin', 'nx-asset-images'));
  }
}

export interface RunOptions {
  /** Added over the defaults; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>;
  /** Throw on a non-zero exit (default true). */
  reject?: boolean;
  timeoutMs?: number;
  /** Working directory relative to the workspace root. */
  cwd?: string;
  /** Told nx's pid as soon as it runs. */
  onSpawn?: (pid: number) => void;
}

/**
 * Runs the workspace's nx (`node node_modules/nx/<bin> ...args`) in its
 * root with NX_DAEMON=false, NX_NO_CLOUD=true, NX_TUI=false, NO_COLOR=1,
 * FORCE_COLOR=0, NX_CACHE_DIRECTORY=<root>/.nx/cache and without NX_SKIP_NX_CACHE or CI (override any of them with opts.env): a test plays a
 * developer unless it sets CI itself, whatever the suite runs under. The cache
 * directory is the workspace's own: Nx 24 otherwise keeps it in
 * ~/.nx/<repo key>, keyed by the git remote or first commit, so two clones of
 * one repository (or two workspaces committed alike in the same second)
 * would share a local cache. Other variables, including the services env
 * (DOCKER_HOST, NXAI_*), pass through.
 */
export function runNx(ws: Workspace, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    // Plain text to assert on: nx colours its output under CI=true otherwise.
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    NX_CACHE_DIRECTORY: path.join(ws.root, '.nx', 'cache'),
  };
  delete env.NX_SKIP_NX_CACHE;
  delete env.CI;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return exec(process.execPath, [path.join(ws.root, 'node_modules', 'nx', nxBinRelative()), ...args], {
    cwd: opts.cwd ? ws.path(opts.cwd) : ws.root,
    env,
    reject: opts.reject,
    timeoutMs: opts.timeoutMs ?? 240_000,
    ...(opts.onSpawn ? { onSpawn: opts.onSpawn } : {}),
  });
}

/** Runs git in the workspace (throws on a non-zero exit). */
export function git(ws: Workspace, ...args: string[]): Promise<ExecResult> {
  return exec('git', args, { cwd: ws.root, env: { ...process.env, ...GIT_ENV } });
}

/** Stages everything and commits; returns the new commit's sha. */
export async function commitAll(ws: Workspace, message: string): Promise<string> {
  await git(ws, 'add', '-A');
  await git(ws, 'commit', '-q', '--allow-empty', '-m', message);
  return (await git(ws, 'rev-parse', 'HEAD')).stdout.trim();
}

/**
 * A git clone of `ws` in a new temp folder, as a teammate or a CI runner gets it:
 * committed files only (no gitignored weights, no .asset-images, no dist), with
 * node_modules linked to the original's. `git clone` options go in `cloneArgs`,
 * its environment (GIT_LFS_SKIP_SMUDGE) in `env`.
 */
export async function cloneWorkspace(
  ws: Workspace,
  options: { cloneArgs?: string[]; env?: NodeJS.ProcessEnv; source?: string } = {},
): Promise<Workspace> {
  const parent = await mkdtemp(path.join(tmpdir(), 'nxai-clone-'));
  const root = path.join(parent, 'ws');
  await exec('git', ['clone', '-q', ...(options.cloneArgs ?? []), options.source ?? ws.root, root], {
    env: { ...process.env, ...GIT_ENV, ...options.env },
  });
  await symlink(path.join(ws.root, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  const clone = makeWorkspace(root);
  await git(clone, 'config', 'user.name', 'nxai e2e');
  await git(clone, 'config', 'user.email', 'e2e@nxai.invalid');
  await git(clone, 'config', 'commit.gpgsign', 'false');
  return { ...clone, dispose: () => rm(parent, { recursive: true, force: true }) };
}
