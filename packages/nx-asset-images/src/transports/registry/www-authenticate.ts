/** Parses `WWW-Authenticate` challenges (RFC 7235), e.g. `Bearer realm="...",service="...",scope="a,b"`. */
export interface AuthChallenge {
  /** Lower-cased: `bearer`, `basic`. */
  scheme: string;
  params: Record<string, string>;
}

export function parseWwwAuthenticate(header: string | undefined): AuthChallenge[] {
  if (!header) return [];
  const challenges: AuthChallenge[] = [];
  let i = 0;
  const n = header.length;
  const skipSpaces = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  while (i < n) {
    skipSpaces();
    while (i < n && header[i] === ',') i++;
    skipSpaces();
    const scheme = readToken();
    if (!scheme) {
      i++;
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    // params: key=value pairs separated by commas, until a token not followed by '='.
    for (;;) {
      skipSpaces();
      const save = i;
      const key = readToken();
      skipSpaces();
      if (!key || header[i] !== '=') {
        i = save;
        break;
      }
      i++; // '='
      skipSpaces();
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++; // closing quote
      } else {
        const start = i;
        while (i < n && header[i] !== ',' && header[i] !== ' ') i++;
        value = header.slice(start, i);
      }
      challenge.params[key.toLowerCase()] = value;
      skipSpaces();
      if (header[i] === ',') i++;
      else break;
    }
  }
  return challenges;
}
