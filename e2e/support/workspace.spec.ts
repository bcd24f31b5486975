// Proves the workspace harness drives a real Nx: projects are inferred from
// project.json and package.json files, git works, env defaults reach nx.
import { afterEach, describe, expect, it } from 'vitest';
import { commitAll, createWorkspace, git, runNx, Workspace } from './workspace';

const noPlugin = `${JSON.stringify({ plugins: [] })}\n`;

describe('e2e workspace harness', () => {
  let ws: Workspace | undefined;
  afterEach(async () => {
    await ws?.dispose();
    ws = undefined;
  });

  it('runs real nx: projects from project.json and package.json are listed and a target runs', async () => {
    ws = await createWorkspace({
      'nx.json': noPlugin,
      'libs/alpha/project.json': JSON.stringify({
        name: 'alpha',
        targets: { hello: { command: 'node -e "console.log(process.env.NX_DAEMON + \':\' + process.env.NX_NO_CLOUD)"' } },
      }),
      'package.json': JSON.stringify({ name: 'root', private: true, workspaces: ['apps/*'] }),
      'apps/beta/package.json': JSON.stringify({ name: 'beta', version: '1.0.0' }),
    });
    const listed = await runNx(ws, ['show', 'projects', '--json']);
    const projects = (JSON.parse(listed.stdout) as string[]).sort();
    expect(projects).toEqual(expect.arrayContaining(['alpha', 'beta']));

    const hello = await runNx(ws, ['run', 'alpha:hello']);
    expect(hello.stdout).toContain('false:true');

    const status = await git(ws, 'status', '--porcelain');
    expect(status.stdout.trim()).toBe('');
    expect((await git(ws, 'log', '--format=%s')).stdout.trim()).toBe('initial');
  });

  it('reports a failing nx command with its exit code when reject is false', async () => {
    ws = await createWorkspace({ 'nx.json': noPlugin });
    const res = await runNx(ws, ['run', 'nope:build'], { reject: false });
    expect(res.exitCode).not.toBe(0);
    await expect(runNx(ws, ['run', 'nope:build'])).rejects.toThrow(/exited/);
  });

  it('commits changes and nx affected sees them', async () => {
    ws = await createWorkspace({
      'nx.json': `${JSON.stringify({ plugins: [], defaultBase: 'main' })}\n`,
      'libs/a/project.json': JSON.stringify({ name: 'a' }),
      'libs/b/project.json': JSON.stringify({ name: 'b' }),
    });
    await ws.write('libs/b/file.txt', 'changed\n');
    const sha = await commitAll(ws, 'change b');
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    const affected = await runNx(ws, ['show', 'projects', '--affected', '--base=HEAD~1', '--head=HEAD', '--json']);
    expect(JSON.parse(affected.stdout)).toEqual(['b']);
  });
});
