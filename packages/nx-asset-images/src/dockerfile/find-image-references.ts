import type { ImageReference } from '../oci/image-reference';
import type { DockerfileImageReference, ParsedDockerfile } from './parsed-dockerfile';

export type ResolvedDockerfileImageReference = DockerfileImageReference & {
  readonly resolved: string;
  readonly reference: ImageReference;
};

/**
 * The image references that resolved to a valid reference (stages, `scratch`,
 * unresolvable and malformed references left out; those are in `warnings`).
 */
export function findImageReferences(parsed: ParsedDockerfile): ResolvedDockerfileImageReference[] {
  return parsed.imageReferences.filter((r): r is ResolvedDockerfileImageReference => r.resolved !== undefined && r.reference !== undefined);
}

/** `Dockerfile`, `Dockerfile.<suffix>`, `<prefix>.Dockerfile` (the file name, not a path); not `*.dockerignore`. */
export function isDockerfileName(fileName: string): boolean {
  if (fileName.endsWith('.dockerignore')) return false;
  return fileName === 'Dockerfile' || /^Dockerfile\.[^/]+$/.test(fileName) || /^[^/]+\.Dockerfile$/.test(fileName);
}
