/**
 * A stand-in for the Hugging Face Hub, for tests only: two loopback HTTP
 * servers implementing the Hub's published HTTP contract as huggingface_hub
 * uses it (not the Hub itself):
 *
 * - `GET /api/models/<org>/<repo>/revision/<rev>`: `{"id", "sha", "siblings"}` (model_info);
 * - `GET /api/models/<org>/<repo>/tree/<rev>?recursive=true`: RepoFile / RepoFolder
 *   entries, `pageSize` per page, `Link: <...>; rel="next"` (list_repo_tree, paginate);
 * - `GET|HEAD /<org>/<repo>/resolve/<rev>/<path>`: `X-Repo-Commit`, `ETag`; a small
 *   file answers 200 with its bytes, an LFS file 302 to the second server (the
 *   "CDN") with `X-Linked-Etag` and `X-Linked-Size` (file_download.py);
 * - errors as hf_raise_for_status reads them: `X-Error-Code` `RepoNotFound`,
 *   `RevisionNotFound`, `GatedRepo` (401 without a token, 403 with a wrong one).
 *
 * Every request to either server is logged with its Authorization header, so
 * a test can check that the CDN never gets one.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHubFile {
  path: string;
  bytes: Buffer;
  /** Stored in LFS: listed with `lfs`, resolved by a redirect to the CDN. */
  lfs?: boolean;
}

export interface FakeHubRepo {
  /** Branch or tag -> commit (40 hex). A commit id is a revision too. */
  refs: Record<string, string>;
  /** Commit -> its files. */
  commits: Record<string, FakeHubFile[]>;
  /** Gated: only this token may read it. */
  token?: string;
}

export interface FakeHubRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface FakeHubOptions {
  repos: Record<string, FakeHubRepo>;
  /** Tree entries per page (default 1000, as the Hub's). */
  pageSize?: number;
  /** A status to answer instead (e.g. 503), asked for every Hub request. */
  fault?: (request: FakeHubRequest) => number | undefined;
}

export interface FakeHub {
  endpoint: string;
  cdn: string;
  requests: FakeHubRequest[];
  close(): Promise<void>;
}

export const sha256Hex = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const gitOid = (bytes: Buffer): string =>
  createHash('sha1')
    .update(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes]))
    .digest('hex');
const lfsPointer = (bytes: Buffer): Buffer =>
  Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256Hex(bytes)}\nsize ${bytes.length}\n`);

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

function treeEntries(files: readonly FakeHubFile[]): Record<string, unknown>[] {
  const folders = new Set(
    files.flatMap((f) =>
      f.path
        .split('/')
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
    ),
  );
  const entries: Record<string, unknown>[] = [...folders].map((path) => ({
    type: 'directory',
    oid: gitOid(Buffer.from(path)),
    size: 0,
    path,
  }));
  for (const file of files) {
    if (file.lfs) {
      const pointer = lfsPointer(file.bytes);
      entries.push({
        type: 'file',
        oid: gitOid(pointer),
        size: file.bytes.length,
        path: file.path,
        lfs: { oid: sha256Hex(file.bytes), size: file.bytes.length, pointerSize: pointer.length },
      });
    } else {
      entries.push({ type: 'file', oid: gitOid(file.bytes), size: file.bytes.length, path: file.path });
    }
  }
  return entries.sort((a, b) => String(a['path']).localeCompare(String(b['path'])));
}

export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const requests: FakeHubRequest[] = [];
  const blobs = new Map<string, Buffer>();
  for (const repo of Object.values(options.repos))
    for (const files of Object.values(repo.commits)) for (const f of files) if (f.lfs) blobs.set(sha256Hex(f.bytes), f.bytes);
  const pageSize = options.pageSize ?? 1000;
  let endpoint = '';
  let cdn = '';

  const log = (server: FakeHubRequest['server'], req: IncomingMessage): FakeHubRequest => {
    const entry = { server, method: req.method ?? 'GET', path: req.url ?? '', authorization: req.headers.authorization };
    requests.push(entry);
    return entry;
  };
  const error = (res: ServerResponse, status: number, code: string, message: string) =>
    res
      .writeHead(status, { 'x-error-code': code, 'x-error-message': message, 'content-type': 'application/json' })
      .end(JSON.stringify({ error: message }));
  const json = (res: ServerResponse, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

  const hub = createServer((req, res) => {
    const entry = log('hub', req);
    const fault = options.fault?.(entry);
    if (fault !== undefined) return res.writeHead(fault, { 'retry-after': '0' }).end();
    const url = new URL(req.url ?? '/', endpoint);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const match = api ?? resolve;
    if (!match) return res.writeHead(404).end();
    const repoId = match[1]!;
    const revision = decodeURIComponent(api ? match[3]! : match[2]!);
    const repo = options.repos[repoId];
    if (!repo) return error(res, 404, 'RepoNotFound', 'Repository not found');
    if (repo.token !== undefined && req.headers.authorization !== `Bearer ${repo.token}`) {
      const status = req.headers.authorization === undefined ? 401 : 403;
      return error(res, status, 'GatedRepo', `Access to model ${repoId} is restricted.`);
    }
    const commit = repo.refs[revision] ?? (repo.commits[revision] ? revision : undefined);
    if (commit === undefined) return error(res, 404, 'RevisionNotFound', 'Invalid rev id');
    const files = repo.commits[commit]!;

    if (api?.[2] === 'revision')
      return json(res, { id: repoId, modelId: repoId, sha: commit, siblings: files.map((f) => ({ rfilename: f.path })) });
    if (api?.[2] === 'tree') {
      const all = treeEntries(files).filter((e) => url.searchParams.get('recursive') === 'true' || !String(e['path']).includes('/'));
      const start = Number(url.searchParams.get('cursor') ?? 0);
      const next = start + pageSize;
      const headers: Record<string, string> = {};
      if (next < all.length) {
        const nextUrl = new URL(url.href);
        nextUrl.searchParams.set('cursor', String(next));
        headers['link'] = `<${nextUrl.href}>; rel="next"`;
      }
      return json(res, all.slice(start, next), headers);
    }
    const path = resolve![3]!.split('/').map(decodeURIComponent).join('/');
    const file = files.find((f) => f.path === path);
    if (!file) return error(res, 404, 'EntryNotFound', 'Entry not found');
    if (file.lfs) {
      const sha = sha256Hex(file.bytes);
      return res
        .writeHead(302, {
          location: `${cdn}/lfs/${sha}?X-Amz-Signature=fake`,
          'x-repo-commit': commit,
          'x-linked-etag': `"${sha}"`,
          'x-linked-size': String(file.bytes.length),
          etag: `"${gitOid(lfsPointer(file.bytes))}"`,
        })
        .end();
    }
    res.writeHead(200, { 'x-repo-commit': commit, etag: `"${gitOid(file.bytes)}"`, 'content-length': String(file.bytes.length) });
    res.end(req.method === 'HEAD' ? undefined : file.bytes);
  });

  const cdnServer = createServer((req, res) => {
    log('cdn', req);
    const bytes = blobs.get(/^\/lfs\/([0-9a-f]{64})/.exec(req.url ?? '')?.[1] ?? '');
    if (!bytes) return res.writeHead(404).end();
    res.writeHead(200, { 'content-length': String(bytes.length) }).end(req.method === 'HEAD' ? undefined : bytes);
  });

  endpoint = await listen(hub);
  cdn = await listen(cdnServer);
  return {
    endpoint,
    cdn,
    requests,
    close: async () => {
      for (const server of [hub, cdnServer]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}
