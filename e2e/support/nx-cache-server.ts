// Stands in for a team's Nx remote cache: a loopback server implementing Nx's
// self-hosted remote cache contract (https://nx.dev/docs/kb/self-hosted-caching,
// OpenAPI "Nx custom remote cache specification" 1.0.0), which Nx's own client
// (`NX_SELF_HOSTED_REMOTE_CACHE_SERVER`, HttpRemoteCache in Nx's native code)
// talks to. A hosted cache cannot run here; this one keeps entries in memory:
//   PUT /v1/cache/{hash}  body: the task's tar archive (application/octet-stream)
//                         200 stored, 401 no/wrong bearer token, 403 read-only
//                         token, 409 the hash already has an entry
//   GET /v1/cache/{hash}  200 with the archive, 404 unknown, 401, 403
import * as http from 'node:http';
import { listenLoopback } from '../../packages/nx-asset-images/src/transports/registry/__fixtures__/loopback-server';

export interface NxCacheServerOptions {
  /** Bearer token with read and write access; without one, every request is allowed. */
  token?: string;
  /** Bearer token that may only read (PUT answers 403). */
  readOnlyToken?: string;
}

export interface NxCacheServer {
  /** `http://127.0.0.1:<port>`: the value of NX_SELF_HOSTED_REMOTE_CACHE_SERVER. */
  url: string;
  /** Stored archives by task hash. */
  entries: Map<string, Buffer>;
  /** Every request, in order, for assertions (`GET <hash> 404`). */
  log: string[];
  /** The environment that points Nx's client at this server. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export async function startNxCacheServer(options: NxCacheServerOptions = {}): Promise<NxCacheServer> {
  const entries = new Map<string, Buffer>();
  const log: string[] = [];
  const server = http.createServer((req, res) => {
    const match = /^\/v1\/cache\/([^/?]+)$/.exec(req.url ?? '');
    const answer = (status: number, body?: Buffer | string) => {
      log.push(`${req.method} ${match?.[1] ?? req.url} ${status}`);
      res.writeHead(
        status,
        body instanceof Buffer
          ? { 'content-type': 'application/octet-stream', 'content-length': body.length }
          : { 'content-type': 'text/plain' },
      );
      res.end(body);
    };
    if (!match) return answer(404, 'not found');
    const hash = decodeURIComponent(match[1]!);
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const canRead = options.token === undefined || token === options.token || (token !== undefined && token === options.readOnlyToken);
    const canWrite = options.token === undefined || token === options.token;
    if (!canRead) return answer(401, 'missing or wrong access token');
    if (req.method === 'GET') {
      const entry = entries.get(hash);
      return entry ? answer(200, entry) : answer(404, 'the record was not found');
    }
    if (req.method === 'PUT') {
      if (!canWrite) return answer(403, 'access forbidden');
      if (entries.has(hash)) {
        req.resume();
        return answer(409, 'cannot override an existing record');
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        entries.set(hash, Buffer.concat(chunks));
        answer(200);
      });
      return;
    }
    answer(405, 'method not allowed');
  });
  const address = await listenLoopback(server);
  return {
    url: address.url,
    entries,
    log,
    env: () => ({
      NX_SELF_HOSTED_REMOTE_CACHE_SERVER: address.url,
      ...(options.token !== undefined ? { NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: options.token } : {}),
    }),
    close: address.close,
  };
}
