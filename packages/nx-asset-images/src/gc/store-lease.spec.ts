import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileLockTimeoutError } from '../util/file-lock';
import { acquireStoreLease, GC_MUTEX_FILE, LEASES_DIR, StoreBusyError, withExclusiveStore } from './store-lease';

// Another process holding a lease: the lease file as acquireFileLock writes it ({ pid, host }, O_EXCL),
// created by a child node process that keeps it until told to go (or is killed).
const CHILD = `
const fs = require('node:fs'); const os = require('node:os'); const path = require('node:path');
const dir = path.join(process.argv[1], ${JSON.stringify(LEASES_DIR)});
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, process.pid + '-1.json');
fs.writeFileSync(file, JSON.stringify({ pid: process.pid, host: os.hostname() }), { flag: 'wx' });
process.stdout.write('held\\n');
process.stdin.on('data', () => { fs.rmSync(file, { force: true }); process.exit(0); });
`;

async function childWithLease(storeRoot: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', CHILD, storeRoot], { stdio: ['pipe', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  return child;
}

describe('store leases against gc', () => {
  let store: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    store = await mkdtemp(join(tmpdir(), 'nxai-lease-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await rm(store, { recursive: true, force: true });
  });

  it('gc waits while another process holds a lease, then runs', async () => {
    const child = await childWithLease(store);
    children.push(child);
    const events: string[] = [];
    let waiting!: () => void;
    const told = new Promise<void>((resolve) => (waiting = resolve));
    const gc = withExclusiveStore(
      store,
      {
        mode: 'wait',
        onWait: (leases) => {
          events.push(`waiting ${leases.length}`);
          waiting();
        },
      },
      async () => {
        events.push('gc ran');
        return 'done';
      },
    );
    await told;
    // gc still has the store (its mutex) and has not run: another gc that only tries gives up on that mutex.
    expect(await withExclusiveStore(store, { mode: 'try' }, async () => 'never')).toEqual({ ran: false, leases: [GC_MUTEX_FILE] });
    expect(events).toEqual(['waiting 1']);
    child.stdin!.write('go\n');
    await once(child, 'exit');
    expect(await gc).toEqual({ ran: true, value: 'done' });
    expect(events).toEqual(['waiting 1', 'gc ran']);
  });

  it('a lease left by a dead process is removed and gc runs', async () => {
    const child = await childWithLease(store);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(await withExclusiveStore(store, { mode: 'wait', timeoutMs: 5000 }, async () => 'ran')).toEqual({ ran: true, value: 'ran' });
    expect(await readdir(join(store, LEASES_DIR))).toEqual([]);
  });

  it('try gives up at once, wait times out with the leases named', async () => {
    children.push(await childWithLease(store));
    const tried = await withExclusiveStore(store, { mode: 'try' }, async () => 'never');
    expect(tried.ran).toBe(false);
    await expect(withExclusiveStore(store, { mode: 'wait', timeoutMs: 100 }, async () => 'never')).rejects.toBeInstanceOf(StoreBusyError);
  });

  it('a new lease waits while gc runs, and the leases of one process do not block each other', async () => {
    const first = await acquireStoreLease(store);
    const second = await acquireStoreLease(store);
    await first();
    await second();
    const order: string[] = [];
    let finishGc!: () => void;
    let gcStarted!: () => void;
    const started = new Promise<void>((resolve) => (gcStarted = resolve));
    const gc = withExclusiveStore(store, { mode: 'wait' }, async () => {
      order.push('gc start');
      gcStarted();
      await new Promise<void>((r) => (finishGc = r));
      order.push('gc end');
    });
    await started;
    const lease = acquireStoreLease(store).then((release) => {
      order.push('lease');
      return release;
    });
    // While gc runs no lease can be had: one that will not wait fails on the mutex gc holds.
    await expect(acquireStoreLease(store, { timeoutMs: 0 })).rejects.toBeInstanceOf(FileLockTimeoutError);
    expect(await readdir(join(store, LEASES_DIR))).toEqual([]);
    expect(order).toEqual(['gc start']);
    finishGc();
    await gc;
    await (
      await lease
    )();
    expect(order).toEqual(['gc start', 'gc end', 'lease']);
  });
});
