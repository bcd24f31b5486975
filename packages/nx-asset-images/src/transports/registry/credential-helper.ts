/**
 * `docker-credential-<name> get`: server URL on stdin, `{"ServerURL","Username","Secret"}`
 * on stdout. A `Username` of `<token>` means `Secret` is an identity token.
 */
import { spawn } from 'node:child_process';
import type { RegistryCredentials } from './credentials';

export class CredentialHelperError extends Error {
  override readonly name = 'CredentialHelperError';
  constructor(
    readonly helper: string,
    readonly serverUrl: string,
    reason: string,
  ) {
    super(`docker-credential-${helper} get for ${serverUrl} failed: ${reason}`);
  }
}

export function parseCredentialHelperOutput(stdout: string): RegistryCredentials | undefined {
  const parsed = JSON.parse(stdout) as { Username?: string; Secret?: string };
  if (!parsed.Secret) return undefined;
  if (parsed.Username === '<token>') return { identityToken: parsed.Secret };
  return { ...(parsed.Username ? { username: parsed.Username } : {}), password: parsed.Secret };
}

/** Undefined when the helper has no credentials for the host ("credentials not found"). */
export function getFromCredentialHelper(
  helper: string,
  serverUrl: string,
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 30_000,
): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) =>
      reject(
        new CredentialHelperError(
          helper,
          serverUrl,
          (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${program} not found on PATH` : e.message,
        ),
      ),
    );
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8').trim();
      if (code !== 0) {
        if (/credentials not found/i.test(stdout + Buffer.concat(err).toString('utf8'))) return resolve(undefined);
        // stderr/stdout of a helper may echo what it was given; do not copy them into the error.
        return reject(new CredentialHelperError(helper, serverUrl, `exit code ${code}`));
      }
      try {
        resolve(parseCredentialHelperOutput(stdout));
      } catch {
        reject(new CredentialHelperError(helper, serverUrl, 'output is not JSON'));
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(serverUrl);
  });
}
