/**
 * Upload sessions: open one (`POST /v2/<name>/blobs/uploads/`), ask how far
 * it got (`GET <location>` -> `Range: 0-N`), cancel one (`DELETE <location>`).
 */
import { discardResponseBody, headerValue } from '../../http/response-body';
import type { HttpResponse } from '../../http/send-request';
import { RegistryError } from './registry-errors';
import { repositoryScope, type RegistryRequest, type RegistrySession } from './registry-session';
import type { RequestRetryOption } from './retry';

export interface UploadSession {
  /** Where the next PATCH/PUT goes (the registry may change it after every request). */
  location: string;
  /** Bytes the registry holds. */
  offset: number;
  /** `OCI-Chunk-Min-Length`, when the registry states one. */
  chunkMinLength?: number;
}

export async function startUpload(session: RegistrySession, repository: string, options: RequestRetryOption = {}): Promise<UploadSession> {
  const request: RegistryRequest = {
    method: 'POST',
    path: `/v2/${repository}/blobs/uploads/`,
    scopes: [repositoryScope(repository, 'pull,push')],
    expect: [202],
  };
  const response = options.retry === false ? await session.request(request) : await session.requestWithRetry(request);
  await discardResponseBody(response);
  return { ...uploadSessionFrom(response, session, 'POST'), offset: 0 };
}

export function uploadSessionFrom(
  response: HttpResponse,
  session: RegistrySession,
  method: string,
): { location: string; chunkMinLength?: number } {
  const location = headerValue(response, 'location');
  if (!location)
    throw new RegistryError(
      { method, url: session.baseUrl, registry: session.registry, status: response.status },
      `${method} upload: ${session.registry} answered ${response.status} without a Location`,
    );
  const min = Number(headerValue(response, 'oci-chunk-min-length'));
  return Number.isFinite(min) && min > 0 ? { location, chunkMinLength: min } : { location };
}

/** `Range: 0-N` -> N + 1. `0-0` is ambiguous in Distribution (empty or one byte): undefined. */
export function nextOffsetFromRange(range: string | undefined): number | undefined {
  if (range === undefined) return 0;
  const match = /^(?:bytes=)?0-(\d+)$/.exec(range.trim());
  if (!match) return undefined;
  const end = Number(match[1]);
  return end === 0 ? undefined : end + 1;
}

/** How far an upload got; undefined when the session is gone (404) or its state cannot be trusted. */
export async function uploadStatus(session: RegistrySession, repository: string, location: string): Promise<UploadSession | undefined> {
  let response: HttpResponse;
  try {
    response = await session.request({
      method: 'GET',
      path: location,
      scopes: [repositoryScope(repository, 'pull,push')],
      expect: [204, 200],
    });
  } catch (error) {
    if (
      error instanceof RegistryError &&
      error.status !== undefined &&
      error.status >= 400 &&
      error.status < 500 &&
      error.status !== 401 &&
      error.status !== 403 &&
      error.status !== 429
    )
      return undefined;
    throw error;
  }
  await discardResponseBody(response);
  const offset = nextOffsetFromRange(headerValue(response, 'range'));
  if (offset === undefined) return undefined;
  return { location: headerValue(response, 'location') ?? location, offset };
}

export async function cancelUpload(session: RegistrySession, repository: string, location: string): Promise<void> {
  try {
    const response = await session.request({
      method: 'DELETE',
      path: location,
      scopes: [repositoryScope(repository, 'pull,push')],
      expect: [204, 200, 202, 404],
    });
    await discardResponseBody(response);
  } catch {
    /* best effort: an abandoned session expires on its own */
  }
}
