// What the plugin sends Docker, seen from outside it: a `docker` first on PATH that keeps a copy of every archive
// `docker load` reads, then runs the real CLI (the one PATH named before) with the same arguments and input.
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import type { DockerArchiveManifestEntry } from '../../packages/nx-asset-images/src/transports/docker-archive';

export interface DockerLoadSpy {
  /** Environment for the process under test (`runNx(ws, args, { env: spy.env })`): the spy first on PATH. */
  env: { PATH: string };
  /** The archives `docker load` was sent so far, oldest first. */
  archives(): string[];
  dispose(): void;
}

function onPath(command: string, pathVariable: string): string {
  for (const dir of pathVariable.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new Error(`no ${command} on PATH ${pathVariable}`);
}

/** Starts a spy over the `docker` that this process's PATH names (Docker 26's CLI on the e2e-docker26 project). */
export function startDockerLoadSpy(): DockerLoadSpy {
  const dir = mkdtempSync(path.join(tmpdir(), 'nxai-load-spy-'));
  const bin = path.join(dir, 'bin');
  const kept = path.join(dir, 'archives');
  mkdirSync(bin);
  mkdirSync(kept);
  const PATH = process.env.PATH ?? '';
  const real = onPath('docker', PATH);
  const script = [
    '#!/bin/sh',
    'if [ "$1" = load ]; then',
    `  tee "${kept}/$(date +%s%N).tar" | "${real}" "$@"`,
    '  exit $?',
    'fi',
    `exec "${real}" "$@"`,
    '',
  ];
  writeFileSync(path.join(bin, 'docker'), script.join('\n'), { mode: 0o755 });
  return {
    env: { PATH: `${bin}${path.delimiter}${PATH}` },
    archives: () =>
      readdirSync(kept)
        .sort()
        .map((name) => path.join(kept, name)),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A `docker load` archive as read back: Docker's manifest.json and every file the archive holds, by path. */
export interface LoadedArchive {
  manifest: DockerArchiveManifestEntry[];
  files: Map<string, Buffer>;
}

export async function readLoadArchive(file: string): Promise<LoadedArchive> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        if (header.type === 'file') files.set(header.name, Buffer.concat(chunks));
        next();
      });
      stream.on('error', reject);
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([readFileSync(file)]).pipe(extract);
  await done;
  const manifest = files.get('manifest.json');
  if (!manifest) throw new Error(`${file}: no manifest.json`);
  return { manifest: JSON.parse(manifest.toString('utf8')) as DockerArchiveManifestEntry[], files };
}

/** Whether `bytes` are a tar (the ustar magic of its first header), not a compressed stream. */
export function isPlainTar(bytes: Buffer): boolean {
  return bytes.subarray(257, 262).toString('latin1') === 'ustar';
}
