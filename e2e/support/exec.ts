// Run a command and collect its output; the one process helper of e2e/support.
import { spawn } from 'node:child_process';

export interface ExecOptions {
  cwd?: string;
  /** Replaces the whole environment when given (merge with process.env yourself). */
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Throw ExecError on a non-zero exit (default true). */
  reject?: boolean;
  timeoutMs?: number;
  /** Told each piece of stdout as it comes (for a test that must act while the command runs). */
  onStdout?: (text: string) => void;
  /** Told the child's pid as soon as it runs (for a test that must signal it or its descendants). */
  onSpawn?: (pid: number) => void;
}

export interface ExecResult {
  command: string;
  stdout: string;
  stderr: string;
  exitCode: number;
}

export class ExecError extends Error {
  constructor(
    readonly result: ExecResult,
    options?: { cause?: unknown },
  ) {
    super(
      `${result.command} exited ${result.exitCode}\n--- stderr ---\n${tail(result.stderr)}\n--- stdout ---\n${tail(result.stdout)}`,
      options,
    );
    this.name = 'ExecError';
  }
}

function tail(text: string, max = 4000): string {
  return text.length > max ? `...${text.slice(-max)}` : text;
}

export function exec(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const command = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs,
      killSignal: 'SIGKILL',
    });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      opts.onStdout?.(b.toString('utf8'));
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (cause) => reject(new ExecError({ command, stdout: '', stderr: String(cause), exitCode: -1 }, { cause })));
    child.on('close', (code, signal) => {
      const result: ExecResult = {
        command,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (signal ? `\n[killed by ${signal}]` : ''),
        exitCode: code ?? 128,
      };
      if (result.exitCode !== 0 && opts.reject !== false) reject(new ExecError(result));
      else resolve(result);
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input);
  });
}
