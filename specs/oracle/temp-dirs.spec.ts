// The oracle's temp directories do not outlive their run (oracle/temp-dirs.ts, stop 35): a case
// directory whose images cannot be made or copied is removed; a removal first ends the process
// still writing in the directory; the stale sweep removes a dead owner's directories (killing the
// QEMU orphaned in them) and never a live owner's, an unowned one, or one where another program works.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ImageCache, recordOnQsd, type CaseDir } from '../../oracle/fuzz/run-case.js';
import type { Scenario } from '../../oracle/format.js';
import { closeEndsProcess, qsdAvailable, spawnQsd, type QsdConnection } from '../../oracle/qsd.js';
import { liveDirs, ownerOf, pidAlive, sweepMessage, sweepStale, trackChild } from '../../oracle/temp-dirs.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'bg-tempdirs-spec-'));
const scenario = (images: Scenario['images'], steps: Scenario['steps'] = []): Scenario =>
  ({ name: 'spec', description: '', covers: ['spec'], images, steps });

/** A pid that was ours and has exited (reaped), so is dead. */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(String(r.stdout).trim());
}

const exited = (c: ChildProcess) => new Promise<void>((resolve) => {
  if (c.exitCode !== null || c.signalCode !== null) resolve(); else c.once('exit', () => resolve());
});

test('a case directory whose images cannot be made is removed before the error is thrown', async () => {
  const root = fresh();
  try {
    const missing = join(root, 'no-such-qemu-img');
    const cache = new ImageCache({ version: '7.2', qsd: missing, img: missing, io: missing }, root);
    let threw = false;
    try {
      await cache.caseDir(scenario([{ file: 'a.raw', format: 'raw', size: '1M' }]));
    } catch { threw = true; }
    assert.ok(threw, 'qemu-img is missing: caseDir throws');
    assert.equal(readdirSync(root), [], 'no directory left');
    assert.equal((await cache.dispose()), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('recordOnQsd: a case whose image copy (ensure) throws leaves no directory', async () => {
  const root = fresh();
  try {
    class FailingCopies extends ImageCache {
      override async caseDir(s: Scenario): Promise<CaseDir> {
        const { dir } = await super.caseDir({ ...s, images: [] });
        return { dir, ensure: async () => { throw Object.assign(new Error('ENOSPC: no space left on device, copyfile'), { code: 'ENOSPC' }); } };
      }
    }
    const cache = new FailingCopies(undefined, root);
    const s = scenario([], [{ execute: 'query-named-block-nodes' }]);
    let threw = '';
    try { await recordOnQsd(s, { images: cache }); } catch (e) { threw = (e as Error).message; }
    assert.match(threw, /ENOSPC/);
    await cache.dispose();
    assert.equal(readdirSync(root), [], 'the case directory was removed');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('release ends the process still writing in the case directory, then removes it', async () => {
  const root = fresh();
  try {
    const cache = new ImageCache(undefined, root);
    const { dir } = await cache.caseDir(scenario([]));
    assert.ok(ownerOf(dir.split('/').pop()!) === process.pid, `named after its owner: ${dir}`);
    assert.ok(liveDirs().includes(dir));
    // a daemon that goes on creating files (the removal used to race it: ENOTEMPTY, swallowed)
    const writer = spawn('sh', ['-c', 'i=0; while :; do i=$((i+1)); : > f$i 2>/dev/null || exit 3; done'], { cwd: dir, stdio: 'ignore' });
    trackChild(writer, dir);
    await new Promise((r) => setTimeout(r, 100));
    await cache.release(dir);
    await cache.dispose();
    assert.ok(writer.exitCode !== null || writer.signalCode !== null, 'the writer was ended before the removal');
    assert.is(writer.signalCode, 'SIGKILL');
    assert.not.ok(existsSync(dir), 'the directory is gone');
    assert.not.ok(liveDirs().includes(dir));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('sweepStale: a dead owner\'s directory goes (bytes counted); a live owner\'s, an unowned one and one another program works in stay', async () => {
  const root = fresh();
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  let squatter: ChildProcess | undefined;
  try {
    const dead = deadPid();
    assert.not.ok(pidAlive(dead));
    const stale = join(root, `bg-fuzz-${dead}-AbCdEf`);
    mkdirSync(stale);
    writeFileSync(join(stale, 'img'), Buffer.alloc(1 << 20, 1));
    const staleRec = join(root, `blockgraph-rec-${dead}-XyZ123`);
    mkdirSync(staleRec);
    const liveOther = join(root, `bg-fuzz-img-${sleeper.pid}-LiVe01`);
    mkdirSync(liveOther);
    const mine = join(root, `bg-fuzz-${process.pid}-MiNe01`);
    mkdirSync(mine);
    const legacy = join(root, 'bg-fuzz-LeGaCy');
    mkdirSync(legacy);
    const busy = join(root, `bg-fuzz-${dead}-BuSy01`);
    mkdirSync(busy);
    squatter = spawn('sleep', ['30'], { cwd: busy, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 50));
    const r = sweepStale([root]);
    assert.equal(r.removed.sort(), [stale, staleRec].sort());
    assert.ok(r.bytes >= 1 << 20, `bytes ${r.bytes}`);
    assert.equal(r.owners, [dead]);
    assert.equal(r.kept, [busy], 'a non-QEMU process works there: kept');
    assert.equal(r.unowned, [legacy], 'an older build\'s directory: counted, left');
    assert.match(sweepMessage('fuzz', r)!, new RegExp(`^fuzz: warning: removed 2 stale temp directories \\(\\d+ bytes, [\\d.]+ MB\\) of dead runs \\(pid ${dead}\\); kept 1 of dead runs where another process works: .*BuSy01; left 1 of an older blockgraph \\(no owner pid in the name, e.g. .*bg-fuzz-LeGaCy\\)`));
    assert.equal(readdirSync(root).sort(), ['bg-fuzz-LeGaCy', `bg-fuzz-${dead}-BuSy01`, `bg-fuzz-${process.pid}-MiNe01`, `bg-fuzz-img-${sleeper.pid}-LiVe01`].sort());
    assert.ok(squatter.exitCode === null && squatter.signalCode === null, 'the other program was not killed');
  } finally {
    sleeper.kill('SIGKILL');
    squatter?.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});

test('sweepStale: a QEMU daemon orphaned in a dead owner\'s directory is killed, then the directory removed', async () => {
  if (!qsdAvailable()) { console.log('  (qemu-storage-daemon not installed: orphan part not run)'); return; }
  const root = fresh();
  // detached: its own process group, as an orphan's is once its run is gone
  let qsd: ChildProcess | undefined;
  try {
    const stale = join(root, `bg-fuzz-${deadPid()}-QeMu01`);
    mkdirSync(stale);
    qsd = spawn('qemu-storage-daemon', ['--chardev', 'stdio,id=m', '--monitor', 'chardev=m'], { cwd: stale, stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    // its stdin closed: QEMU does not exit on the monitor's EOF (why orphans lived on)
    qsd.stdin!.end();
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(qsd.exitCode === null && qsd.signalCode === null, 'the daemon outlives its closed monitor');
    const r = sweepStale([root]);
    assert.equal(r.removed, [stale]);
    assert.equal(r.killed, [qsd.pid]);
    await exited(qsd);
    assert.is(qsd.signalCode, 'SIGKILL');
    assert.equal(readdirSync(root), []);
  } finally {
    if (qsd && qsd.exitCode === null && qsd.signalCode === null) qsd.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});

/** Processes whose working directory is `dir`. */
const workingIn = (dir: string): number[] => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
  try { return readlinkSync(`/proc/${p}/cwd`) === dir; } catch { return false; }
}).map(Number);

test('spawnQsd: a daemon that greets but refuses qmp_capabilities is killed before the error is thrown', async () => {
  const dir = fresh();
  try {
    // greets, refuses the negotiation, then stays (exec: the pid is the daemon's)
    const fake = join(dir, 'fake-qsd');
    writeFileSync(fake, `#!/bin/sh
echo '{"QMP": {"version": {}, "capabilities": []}}'
read line
id=$(echo "$line" | sed 's/.*"id":\\([0-9]*\\).*/\\1/')
echo "{\\"error\\": {\\"class\\": \\"GenericError\\", \\"desc\\": \\"refused\\"}, \\"id\\": $id}"
exec sleep 30
`);
    chmodSync(fake, 0o755);
    let threw = '';
    try { await spawnQsd(dir, { bin: fake }); } catch (e) { threw = (e as Error).message; }
    assert.match(threw, /qmp_capabilities failed: refused/);
    assert.equal(workingIn(dir), [], 'no process left running in the directory');
  } finally {
    for (const p of workingIn(dir)) process.kill(p, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('closeEndsProcess: the process is ended even when closing the wire throws', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const done = exited(child);
    const conn = { close: async () => { throw new Error('EPIPE'); } } as unknown as QsdConnection;
    closeEndsProcess(conn, child, done, () => undefined);
    let threw = '';
    try { await conn.close(); } catch (e) { threw = (e as Error).message; }
    assert.is(threw, 'EPIPE', 'the wire\'s error is still thrown');
    assert.is(child.signalCode, 'SIGTERM', 'and the process was ended');
  } finally {
    child.kill('SIGKILL');
  }
});

test.run();
