export {
  pushImage,
  PushRequestError,
  referencedDigests,
  openRegistrySession,
  type PushOptions,
  type PushResult,
  type RegistryClientOptions,
} from './push-image';
export {
  pullManifest,
  fetchBlob,
  pullImageToLayout,
  pullIndexToLayout,
  type PullOptions,
  type PullToLayoutOptions,
  type PullToLayoutResult,
} from './pull-image';
export type { PulledManifest, ManifestJson } from './manifest-get';
export { RegistryError, RegistryAuthError, ForeignAuthChallengeError, StaleCredentialsError } from './registry-errors';
export { DigestMismatchError } from '../../oci/digest';
export { credentialSecrets, ForeignCredentialsError, type RegistryCredentials, type ResolvedCredentials } from './credentials';
export { resolveDockerCredentials, resolveRegistryCredentials, dockerAuthKey, type DockerConfigOptions } from './docker-config';
export { CredentialHelperError } from './credential-helper';
export { DEFAULT_RETRY, type RetryOptions } from './retry';
export { redactUrl } from './redact';
export { RegistrySession, type RegistrySessionOptions } from './registry-session';
export { INSECURE_REGISTRIES_ENV, insecureRegistriesFromEnv } from './registry-url';
export { DEFAULT_MUTABLE_TAGS, ImmutableTagError, tagDecisions, type TagConflict, type TagMove, type TagPolicy } from './tag-guard';
