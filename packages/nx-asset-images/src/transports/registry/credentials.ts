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
