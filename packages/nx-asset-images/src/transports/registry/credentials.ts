/** What we may authenticate with. Never printed: errors name only `username`. */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (`identitytoken` in config.json, `<token>` user from a helper). */
  identityToken?: string;
  /** A ready bearer token (`registrytoken`). */
  registryToken?: string;
}

export function hasCredentials(c: RegistryCredentials | undefined): c is RegistryCredentials {
  return !!c && (!!(c.username && c.password) || !!c.identityToken || !!c.registryToken);
}

/**
 * What Docker's config gives one registry: its credentials, or none
 * (anonymous). Read once (`resolveRegistryCredentials`), then handed to that
 * registry's client and to whatever keeps their secrets out of messages.
 */
export interface ResolvedCredentials {
  /** The registry they were read for: a client of another registry does not take them. */
  registry: string;
  credentials: RegistryCredentials | undefined;
}

/** Credentials read for one registry, given to a client of another. */
export class ForeignCredentialsError extends Error {
  override readonly name = 'ForeignCredentialsError';
  constructor(
    readonly resolvedFor: string,
    readonly registry: string,
  ) {
    super(`credentials read for ${resolvedFor} are not sent to ${registry}`);
  }
}

/** What must never be printed: the password, the tokens, and `user:password` as basic auth sends it. */
export function credentialSecrets(credentials: RegistryCredentials | undefined): string[] {
  if (!credentials) return [];
  const { username, password, identityToken, registryToken } = credentials;
  const basic = username && password ? Buffer.from(`${username}:${password}`).toString('base64') : undefined;
  return [password, identityToken, registryToken, basic].filter((secret): secret is string => secret !== undefined);
}
