/**
 * An in-memory OCI distribution registry on a loopback port, for unit tests:
 * monolithic and chunked uploads with resumable sessions (partial bodies are
 * kept, like a real registry's upload files), mounts, manifests that must
 * reference present blobs, basic or bearer auth with a token endpoint whose
 * tokens can be made to expire after N uses (basic credentials, or an
 * identity token exchanged with the OAuth2 refresh_token grant), blob reads
 * redirected elsewhere (storage), ranged blob reads (`Range: bytes=N-`), a
 * body limit (413), and seeded faults (dropped connections, also halfway
 * through a request or a blob body, 500, 429).
 */
import { createHash, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { listenLoopback } from './loopback-server';

export type Fault = 'drop' | 'drop-mid-body' | 500 | 429 | undefined;

export interface FakeRegistryOptions {
  auth?: {
    scheme: 'basic' | 'bearer';
    user: string;
    password: string;
    tokenUses?: number;
    /** Bearer only: the token endpoint also takes `POST grant_type=refresh_token&refresh_token=<this>`. */
    identityToken?: string;
  };
  /** An authorized HEAD/GET of a blob (present or not) is answered 307 to the URL this returns (undefined: answered here). */
  blobRedirect?: (repo: string, digest: string, req: http.IncomingMessage) => string | undefined;
  /** Decides a fault per request (not for /v2/ pings or the token endpoint). */
  fault?: (req: http.IncomingMessage, index: number) => Fault;
  /** The `Retry-After` header of its 429 answers (none when unset). */
  retryAfter?: string;
  /** PUT/PATCH bodies larger than this are refused with 413. */
  maxBodySize?: number;
  chunkMinLength?: number;
  /** Blob GETs answer 200 with the whole blob whatever their Range (a server that does not do ranges). */
  ignoreRange?: boolean;
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  status?: number;
}

export interface FakeRegistry {
  host: string;
  url: string;
  blobs: Map<string, Buffer>;
  /** repository -> digests it holds */
  repos: Map<string, Set<string>>;
  /** `repo:tag` and `repo@digest` -> manifest bytes */
  manifests: Map<string, Buffer>;
  requests: RecordedRequest[];
  tokenRequests: RecordedRequest[];
  /** Every bearer token the token endpoint handed out. */
  issuedTokens: string[];
  close(): Promise<void>;
}

/** mulberry32: a seeded random source for reproducible fault patterns. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function startFakeRegistry(options: FakeRegistryOptions = {}): Promise<FakeRegistry> {
  const blobs = new Map<string, Buffer>();
  const repos = new Map<string, Set<string>>();
  const manifests = new Map<string, Buffer>();
  const uploads = new Map<string, { repo: string; data: Buffer }>();
  const tokens = new Map<string, number>();
  const requests: RecordedRequest[] = [];
  const tokenRequests: RecordedRequest[] = [];
  const issuedTokens: string[] = [];
  let index = 0;
  let base = '';

  const repoSet = (repo: string) => {
    let set = repos.get(repo);
    if (!set) repos.set(repo, (set = new Set()));
    return set;
  };
  const send = (res: http.ServerResponse, status: number, headers: Record<string, string> = {}, body?: Buffer | string) => {
    res.writeHead(status, { 'content-length': String(body ? Buffer.byteLength(body) : 0), ...headers });
    res.end(body);
  };
  const error = (
    res: http.ServerResponse,
    status: number,
    code: string,
    message = code.toLowerCase(),
    headers: Record<string, string> = {},
  ) => send(res, status, { 'content-type': 'application/json', ...headers }, JSON.stringify({ errors: [{ code, message }] }));

  const readBody = (req: http.IncomingMessage, dropAfter?: number) =>
    new Promise<{ body: Buffer; dropped: boolean }>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        if (dropAfter !== undefined && size + c.length >= dropAfter) {
          chunks.push(c.subarray(0, Math.max(0, dropAfter - size)));
          size = dropAfter;
          req.socket.destroy();
          resolve({ body: Buffer.concat(chunks), dropped: true });
          return;
        }
        chunks.push(c);
        size += c.length;
      });
      req.on('end', () => resolve({ body: Buffer.concat(chunks), dropped: false }));
      req.on('error', reject);
    });

  const authorized = (req: http.IncomingMessage): boolean => {
    const auth = options.auth;
    if (!auth) return true;
    const header = req.headers.authorization ?? '';
    if (auth.scheme === 'basic') return header === `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const left = tokens.get(token);
    if (left === undefined || left <= 0) return false;
    tokens.set(token, left - 1);
    return true;
  };
  const challenge = (scope: string) =>
    options.auth?.scheme === 'basic' ? 'Basic realm="fake"' : `Bearer realm="${base}/token",service="fake-registry",scope="${scope}"`;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    const recorded: RecordedRequest = { method: req.method ?? '', url: url.pathname + url.search, headers: req.headers };
    res.on('finish', () => (recorded.status = res.statusCode));
    try {
      if (url.pathname === '/token') {
        tokenRequests.push(recorded);
        const auth = options.auth!;
        if (req.method === 'POST') {
          const form = new URLSearchParams((await readBody(req)).body.toString('utf8'));
          if (!auth.identityToken || form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== auth.identityToken)
            return error(res, 401, 'UNAUTHORIZED');
        } else if (req.headers.authorization !== `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`) {
          return error(res, 401, 'UNAUTHORIZED');
        }
        const token = randomUUID();
        issuedTokens.push(token);
        tokens.set(token, auth.tokenUses ?? 1_000_000);
        return send(res, 200, { 'content-type': 'application/json' }, JSON.stringify({ access_token: token, expires_in: 300 }));
      }
      requests.push(recorded);
      if (url.pathname === '/v2/' || url.pathname === '/v2') {
        if (!authorized(req)) return send(res, 401, { 'www-authenticate': challenge('') });
        return send(res, 200);
      }
      const m = /^\/v2\/(.+?)\/(blobs\/uploads|blobs|manifests)\/?(.*)$/.exec(url.pathname);
      if (!m) return error(res, 404, 'NAME_UNKNOWN');
      const [, repo, kind, rest] = m as unknown as [string, string, string, string];
      if (!authorized(req)) {
        req.resume();
        return send(
          res,
          401,
          { 'www-authenticate': challenge(`repository:${repo}:pull,push`) },
          JSON.stringify({ errors: [{ code: 'UNAUTHORIZED' }] }),
        );
      }
      const fault = options.fault?.(req, index++);
      if (fault === 'drop') return req.socket.destroy();
      if (fault === 500 || fault === 429) {
        req.resume();
        if (fault === 429)
          return error(
            res,
            429,
            'TOOMANYREQUESTS',
            'injected',
            options.retryAfter !== undefined ? { 'retry-after': options.retryAfter } : {},
          );
        return error(res, 500, 'UNKNOWN', 'injected');
      }
      const length = Number(req.headers['content-length'] ?? 0);
      if (options.maxBodySize !== undefined && length > options.maxBodySize && (req.method === 'PUT' || req.method === 'PATCH')) {
        req.resume();
        return error(res, 413, 'SIZE_INVALID', 'body too large');
      }
      const { body, dropped } = await readBody(req, fault === 'drop-mid-body' && length > 1 ? Math.floor(length / 2) : undefined);

      if (kind === 'blobs') {
        const has = repoSet(repo).has(rest) && blobs.has(rest);
        const redirect = req.method === 'HEAD' || req.method === 'GET' ? options.blobRedirect?.(repo, rest, req) : undefined;
        if (redirect !== undefined) return send(res, 307, { location: redirect });
        if (req.method === 'HEAD') return send(res, has ? 200 : 404, has ? { 'docker-content-digest': rest } : {});
        if (req.method === 'GET') {
          if (!has) return error(res, 404, 'BLOB_UNKNOWN');
          const whole = blobs.get(rest)!;
          const range = options.ignoreRange ? undefined : /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
          const start = range ? Number(range[1]) : 0;
          if (start > whole.length) return send(res, 416, { 'content-range': `bytes */${whole.length}` });
          const part = whole.subarray(start);
          const headers: Record<string, string> = { 'docker-content-digest': rest, 'content-length': String(part.length) };
          if (range) headers['content-range'] = `bytes ${start}-${whole.length - 1}/${whole.length}`;
          res.writeHead(range ? 206 : 200, headers);
          // A connection dropped mid-body: the headers promise every byte, half of them come.
          if (fault === 'drop-mid-body' && part.length > 1)
            return res.write(part.subarray(0, part.length >> 1), () => res.socket?.destroy());
          return res.end(part);
        }
      }
      if (kind === 'blobs/uploads') {
        const uploadHeaders = (id: string) => {
          const u = uploads.get(id)!;
          return { location: `/v2/${repo}/blobs/uploads/${id}`, range: `0-${Math.max(0, u.data.length - 1)}`, 'docker-upload-uuid': id };
        };
        if (req.method === 'POST' && !rest) {
          const mount = url.searchParams.get('mount');
          const from = url.searchParams.get('from');
          if (mount && from && repos.get(from)?.has(mount)) {
            repoSet(repo).add(mount);
            return send(res, 201, { location: `/v2/${repo}/blobs/${mount}`, 'docker-content-digest': mount });
          }
          const id = randomUUID();
          uploads.set(id, { repo, data: Buffer.alloc(0) });
          return send(res, 202, {
            ...uploadHeaders(id),
            ...(options.chunkMinLength ? { 'oci-chunk-min-length': String(options.chunkMinLength) } : {}),
          });
        }
        const upload = uploads.get(rest);
        if (!upload) return error(res, 404, 'BLOB_UPLOAD_UNKNOWN');
        if (req.method === 'GET') return send(res, 204, uploadHeaders(rest));
        if (req.method === 'DELETE') {
          uploads.delete(rest);
          return send(res, 204);
        }
        if (req.method === 'PATCH') {
          const range = req.headers['content-range'];
          if (range && Number(String(range).split('-')[0]) !== upload.data.length) return error(res, 416, 'RANGE_INVALID');
          upload.data = Buffer.concat([upload.data, body]);
          if (dropped) return;
          return send(res, 202, uploadHeaders(rest));
        }
        if (req.method === 'PUT') {
          upload.data = Buffer.concat([upload.data, body]);
          if (dropped) return;
          const digest = url.searchParams.get('digest') ?? '';
          if (sha(upload.data) !== digest) {
            uploads.delete(rest);
            return error(res, 400, 'DIGEST_INVALID');
          }
          uploads.delete(rest);
          blobs.set(digest, upload.data);
          repoSet(repo).add(digest);
          return send(res, 201, { location: `/v2/${repo}/blobs/${digest}`, 'docker-content-digest': digest });
        }
      }
      if (kind === 'manifests') {
        if (req.method === 'PUT') {
          const parsed = JSON.parse(body.toString('utf8')) as {
            config?: { digest: string };
            layers?: Array<{ digest: string }>;
            manifests?: Array<{ digest: string }>;
          };
          // An index must name manifests the repository has; an image manifest, blobs it has.
          for (const m of parsed.manifests ?? []) {
            if (!manifests.has(`${repo}@${m.digest}`)) return error(res, 400, 'MANIFEST_UNKNOWN', m.digest);
          }
          for (const d of [...(parsed.config ? [parsed.config.digest] : []), ...(parsed.layers ?? []).map((l) => l.digest)]) {
            if (!repoSet(repo).has(d)) return error(res, 400, 'MANIFEST_BLOB_UNKNOWN', d);
          }
          const digest = sha(body);
          manifests.set(rest.startsWith('sha256:') ? `${repo}@${rest}` : `${repo}:${rest}`, body);
          manifests.set(`${repo}@${digest}`, body);
          return send(res, 201, { 'docker-content-digest': digest, location: `/v2/${repo}/manifests/${digest}` });
        }
        if (req.method === 'GET' || req.method === 'HEAD') {
          const found = manifests.get(rest.startsWith('sha256:') ? `${repo}@${rest}` : `${repo}:${rest}`);
          if (!found) return error(res, 404, 'MANIFEST_UNKNOWN');
          const mediaType = (JSON.parse(found.toString('utf8')) as { mediaType: string }).mediaType;
          return send(
            res,
            200,
            { 'content-type': mediaType, 'docker-content-digest': sha(found) },
            req.method === 'GET' ? found : undefined,
          );
        }
      }
      return error(res, 405, 'UNSUPPORTED');
    } catch (e) {
      if (!res.headersSent) error(res, 500, 'UNKNOWN', String(e));
    }
  });
  const address = await listenLoopback(server);
  base = address.url;
  return {
    ...address,
    blobs,
    repos,
    manifests,
    requests,
    tokenRequests,
    issuedTokens,
  };
}
