// The project graph from Dockerfiles, and `nx affected` following it:
// two assets, four apps (both assets; one through an ARG default; none; a
// stage named like an asset), and one app per COPY flag beside --from
// (--link before and after it, --chown, --chmod, --exclude, --parents).
// Edges are exactly the COPY --from ones, and a weight change (through the
// committed lock), an asset.json change and an app change each affect
// exactly the expected projects.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker } from './support/docker';
import { commitAll, createWorkspace, runNx, type Workspace } from './support/workspace';

const RUN = randomBytes(3).toString('hex');
const BERT = `localhost:5000/nxai-e2e/bert-${RUN}`;
const TOK = `localhost:5000/nxai-e2e/tok-${RUN}`;
const project = (name: string): string =>
  `${JSON.stringify({ name, root: `apps/${name}`, targets: { 'docker-build': { options: { network: 'host', tags: [`nxai-e2e/${name}-${RUN}`] } } } }, null, 2)}\n`;

/** One app per COPY flag form a user writes beside --from (issue: any other flag hid the asset). */
const FLAG_APPS: Record<string, string> = {
  'flag-link-before': `COPY --link --from=${BERT}:0.1 / /assets/m/`,
  'flag-link-after': `COPY --from=${BERT}:0.1 --link / /assets/m/`,
  'flag-chown': `COPY --chown=1000:1000 --from=${BERT}:0.1 / /assets/m/`,
  'flag-chmod': `COPY --chmod=0444 --from=${BERT}:0.1 / /assets/m/`,
  'flag-exclude': `COPY --exclude=*.txt --from=${BERT}:0.1 / /assets/m/`,
  'flag-parents': `COPY --parents --from=${BERT}:0.1 /vocab.txt /assets/m/`,
};
const FLAG_NAMES = Object.keys(FLAG_APPS).sort();

type Graph = { graph: { dependencies: Record<string, { source: string; target: string; type: string }[]> } };

describe('graph and affected', () => {
  let ws: Workspace;
  let weights: Buffer;

  beforeAll(async () => {
    weights = randomBytes(64 * 1024);
    ws = await createWorkspace({
      '.gitignore': 'dist\n.asset-images\n*.bin\n',
      'assets/bert/asset.json': `${JSON.stringify({ name: 'bert', image: BERT, tags: ['0.1'] }, null, 2)}\n`,
      'assets/bert/vocab.txt': 'a\nb\n',
      'assets/tok/asset.json': `${JSON.stringify({ name: 'tok', image: TOK, tags: ['1'] }, null, 2)}\n`,
      'assets/tok/tok.txt': 'tok\n',
      'apps/both/project.json': project('both'),
      'apps/both/Dockerfile': `FROM busybox\nCOPY --from=${BERT}:0.1 / /bert/\nCOPY --from=${TOK}:1 / /tok/\n`,
      'apps/viaarg/project.json': project('viaarg'),
      // Docker 20.10's legacy builder does not expand variables in COPY --from
      // ("invalid from flag value ${BERT}"), so the ARG goes through a FROM stage.
      'apps/viaarg/Dockerfile': `ARG BERT=${BERT}:0.1\nFROM \${BERT} AS weights\nFROM busybox\nCOPY --from=weights / /bert/\n`,
      'apps/none/project.json': project('none'),
      'apps/none/Dockerfile': 'FROM busybox\nCOPY x.txt /x.txt\n',
      'apps/none/x.txt': 'x\n',
      'apps/stage/project.json': project('stage'),
      'apps/stage/Dockerfile': 'FROM busybox AS bert\nRUN true\nFROM busybox\nCOPY --from=bert /bin/busybox /bb\n',
      ...Object.fromEntries(
        Object.entries(FLAG_APPS).flatMap(([name, copy]) => [
          [`apps/${name}/project.json`, `${JSON.stringify({ name, root: `apps/${name}` })}\n`],
          [`apps/${name}/Dockerfile`, `# syntax=docker/dockerfile:1\nFROM busybox\n${copy}\n`],
        ]),
      ),
    });
    await ws.write('assets/bert/weights.bin', weights);
    // First builds write the locks; committed as the README says.
    await runNx(ws, ['run-many', '-t', 'asset-image', '-p', 'bert,tok']);
    await commitAll(ws, 'locks');
  });
  afterAll(async () => {
    const refs = [`${BERT}:0.1`, `${TOK}:1`, `${TOK}:2`, ...['both', 'viaarg'].map((n) => `nxai-e2e/${n}-${RUN}`)];
    await docker(['rmi', '-f', ...refs], { reject: false }).catch(() => undefined);
    await ws?.dispose();
  });

  it('nx graph has exactly the app -> asset edges of the Dockerfiles', async () => {
    await runNx(ws, ['graph', '--file=graph.json']);
    const graph = JSON.parse(await ws.read('graph.json')) as Graph;
    const edges = Object.values(graph.graph.dependencies)
      .flat()
      .filter((d) => !d.target.startsWith('npm:'))
      .map((d) => `${d.source}->${d.target}:${d.type}`)
      .sort();
    expect(edges).toEqual(
      ['both->bert:static', 'both->tok:static', 'viaarg->bert:static', ...FLAG_NAMES.map((n) => `${n}->bert:static`)].sort(),
    );
    // Each flag app also gets the inferred docker-build, after the asset's image.
    const shown = JSON.parse((await runNx(ws, ['show', 'project', 'flag-link-after', '--json'])).stdout) as {
      targets: Record<string, { executor: string; dependsOn: unknown[] }>;
    };
    expect(shown.targets['docker-build']).toMatchObject({
      executor: 'nx-asset-images:docker-build',
      dependsOn: [{ projects: ['bert'], target: 'asset-image' }],
    });
  });

  async function affected(base: string): Promise<{ all: string[]; docker: string[] }> {
    const all = JSON.parse(
      (await runNx(ws, ['show', 'projects', '--affected', `--base=${base}`, '--head=HEAD', '--json'])).stdout,
    ) as string[];
    const docker = JSON.parse(
      (await runNx(ws, ['show', 'projects', '--affected', `--base=${base}`, '--head=HEAD', '-t', 'docker-build', '--json'])).stdout,
    ) as string[];
    return { all: all.sort(), docker: docker.sort() };
  }

  it('one byte of a gitignored weight, lock brought up to date by asset-image and committed: the asset and its two apps', async () => {
    const base = (await commitAll(ws, 'base a')).trim();
    const changed = Buffer.from(weights);
    changed[7] = changed[7]! ^ 1;
    await ws.write('assets/bert/weights.bin', changed);
    const lockBefore = await ws.read('assets/bert/asset.lock.json');
    await runNx(ws, ['run', 'bert:asset-image']);
    expect(await ws.read('assets/bert/asset.lock.json')).not.toBe(lockBefore);
    await commitAll(ws, 'bert weights');

    expect(await affected(base)).toEqual({
      all: ['bert', 'both', 'viaarg', ...FLAG_NAMES].sort(),
      docker: ['both', 'viaarg', ...FLAG_NAMES].sort(),
    });

    // And the real affected run builds exactly those apps (the flag apps aside: Docker 20.10's builders know no
    // --link, --chmod, --exclude or --parents; docker-build.spec builds a --chown + --link app on Docker 26).
    const res = await runNx(ws, ['affected', '-t', 'docker-build', `--base=${base}`, '--head=HEAD', '--exclude=flag-*']);
    const out = res.stdout + res.stderr;
    expect(out).toContain('nx run both:docker-build');
    expect(out).toContain('nx run viaarg:docker-build');
    expect(out).not.toMatch(/nx run (none|stage):/);
  });

  it('an asset.json change (a tag added): that asset and the app using it', async () => {
    const base = (await commitAll(ws, 'base b')).trim();
    await ws.write('assets/tok/asset.json', `${JSON.stringify({ name: 'tok', image: TOK, tags: ['1', '2'] }, null, 2)}\n`);
    await commitAll(ws, 'tok tag 2');
    expect(await affected(base)).toEqual({ all: ['both', 'tok'], docker: ['both'] });
  });

  it('an app file change: that app only', async () => {
    const base = (await commitAll(ws, 'base c')).trim();
    await ws.write('apps/none/x.txt', 'y\n');
    await commitAll(ws, 'none x');
    expect(await affected(base)).toEqual({ all: ['none'], docker: [] });
  });
});
