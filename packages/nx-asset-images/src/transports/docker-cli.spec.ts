import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ProgressTap } from '../util/progress-tap';
import { DockerCommandError, dockerEnvironment, runDocker } from './docker-cli';

// A stand-in docker: `env` prints DOCKER_HOST, `count` the bytes on stdin, `fail` writes stderr and exits 3.
const dir = mkdtempSync(join(tmpdir(), 'nxai-docker-cli-'));
const fakeDocker = join(dir, 'docker');
writeFileSync(
  fakeDocker,
  `#!/bin/sh
case "$1" in
  env) printf '%s' "$DOCKER_HOST" ;;
  count) wc -c | tr -d ' ' ;;
  fail) echo "Error: no such image: $2" >&2; exit 3 ;;
esac
`,
);
chmodSync(fakeDocker, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runDocker', () => {
  it('runs the given binary with DOCKER_HOST set only when an engine address is given', async () => {
    expect(dockerEnvironment({})).toEqual({});
    expect((await runDocker(['env'], { dockerCommand: fakeDocker, dockerHost: 'tcp://engine:2375' })).stdout).toBe('tcp://engine:2375');
  });

  it('streams stdin through its stages', async () => {
    const events: number[] = [];
    const tap = new ProgressTap({ label: 'in', total: 100_000, onProgress: (e) => events.push(e.bytes), everyBytes: 0 });
    const run = await runDocker(['count'], {
      dockerCommand: fakeDocker,
      stdin: Readable.from([Buffer.alloc(60_000), Buffer.alloc(40_000)]),
      stdinThrough: [tap],
    });
    expect(run.stdout).toBe('100000');
    expect(events.at(-1)).toBe(100_000);
  });

  it('fails with argv, exit code, stderr and the cause', async () => {
    const error = await runDocker(['fail', 'x:1'], { dockerCommand: fakeDocker }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DockerCommandError);
    expect(error).toMatchObject({ argv: ['fail', 'x:1'], exitCode: 3, stderr: 'Error: no such image: x:1' });
    expect((error as Error).message).toBe('docker fail x:1 failed (exit 3): Error: no such image: x:1');
    expect((error as Error).cause).toBeDefined();
  });

  it('fails with the stream error when its input cannot be produced', async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error('archive broke'));
      },
    });
    const error = await runDocker(['count'], { dockerCommand: fakeDocker, stdin: broken }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DockerCommandError);
    expect((error as Error).message).toMatch(/streaming its input failed: archive broke/);
    expect(((error as Error).cause as Error).message).toBe('archive broke');
  });

  it('fails when the binary does not exist', async () => {
    const error = await runDocker(['version'], { dockerCommand: join(dir, 'missing') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DockerCommandError);
    expect((error as DockerCommandError).exitCode).toBeUndefined();
  });
});
