// `blockgraph fuzz` and `qmp record` killed mid-run leave no temp directory and no QEMU process
// (stop 35: 667,541 leaked directories filled /dev/shm). The CLI runs as a child process on a
// temp image root (BLOCKGRAPH_IMAGE_ROOT); it is signalled once a case's daemon runs in it.
// SIGTERM twice (the second ends the run at once) and `qmp record`'s SIGTERM: the handlers kill
// the daemons and remove the directories. SIGKILL, which no handler sees: the daemons live on as
// orphans, and the next run's stale sweep kills them and removes the directories, with a warning.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { qsdAvailable } from '../../oracle/qsd.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Processes whose working directory is under `root` (a case's QEMU runs in its case directory). */
function processesUnder(root: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const cwd = readlinkSync(`/proc/${p}/cwd`).replace(/ \(deleted\)$/, '');
      if (cwd === root || cwd.startsWith(root + sep)) out.push(Number(p));
    } catch { /* gone, or not ours to read */ }
  }
  return out;
}

interface Run { child: ChildProcess; stderr: () => string; done: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

function cli(root: string, args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    env: { ...process.env, BLOCKGRAPH_IMAGE_ROOT: root }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { err += s; });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => err, done };
}

/** Waits until a directory `KIND-PID-` of the run exists under root with a QEMU process running under root. */
async function midRun(root: string, run: Run, kind: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (run.child.exitCode !== null) throw new Error(`the run ended first: ${run.stderr()}`);
    if (readdirSync(root).some((n) => n.startsWith(`${kind}-${run.child.pid}-`)) && processesUnder(root).length) return;
    await sleep(50);
  }
  throw new Error(`no ${kind} directory with a daemon after 30 s: ${run.stderr()}`);
}

const fuzzArgs = ['fuzz', '--against', 'qsd', '--seed', '7', '--commands', '20000', '--parallel', '2', '--no-shrink', '--quiet'];

/** Kills what a failed assertion left (the run, and the pids under root: this spec's daemons). */
async function reap(root: string, ...runs: Run[]): Promise<void> {
  for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) { r.child.kill('SIGKILL'); await r.done; }
  for (let i = 0; i < 100 && processesUnder(root).length; i++) {
    for (const p of processesUnder(root)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    await sleep(20);
  }
  rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
}

if (!qsdAvailable()) {
  test('temp dirs under signals: qemu-storage-daemon not installed', () => { console.log('  (skipped: no qemu-storage-daemon)'); });
} else {
  test('fuzz: a second SIGTERM mid-run ends it at once: exit 143, no directory, no daemon left', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bg-sig-spec-'));
    const runs: Run[] = [];
    try {
      const run = cli(root, fuzzArgs);
      runs.push(run);
      await midRun(root, run, 'bg-fuzz');
      run.child.kill('SIGTERM');
      await sleep(50);
      run.child.kill('SIGTERM');
      const { code } = await run.done;
      assert.is(code, 143, run.stderr());
      assert.match(run.stderr(), /fuzz: SIGTERM: QEMU processes ended, temp directories removed/);
      await sleep(200);
      assert.equal(readdirSync(root), [], 'no directory left');
      assert.equal(processesUnder(root), [], 'no QEMU left running in them');
    } finally {
      await reap(root, ...runs);
    }
  });

  test('fuzz: SIGKILL leaves the case dirs and orphaned daemons; the next run sweeps both, with a warning', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bg-sig-spec-'));
    const runs: Run[] = [];
    try {
      const run = cli(root, fuzzArgs);
      runs.push(run);
      await midRun(root, run, 'bg-fuzz');
      const pid = run.child.pid!;
      run.child.kill('SIGKILL');
      await run.done;
      await sleep(100);
      const left = readdirSync(root);
      assert.ok(left.length > 0 && left.every((n) => n.includes(`-${pid}-`)), `the dead run's dirs carry its pid: ${left}`);
      // its daemons outlive it (QEMU does not exit on its monitor's EOF) unless one was writing
      // to the closed pipe at that moment: how many are left is timing, so not asserted
      // (and one counted here may still exit before the sweep looks: the sweep's "killed" clause
      // may then be missing, but it never appears without orphans, and none survive it)
      const orphans = processesUnder(root).length;
      const next = cli(root, ['fuzz', '--against', 'qsd', '--commands', '0', '--quiet']);
      runs.push(next);
      const { code } = await next.done;
      assert.is(code, 0, next.stderr());
      assert.match(next.stderr(), new RegExp(`fuzz: warning: removed ${left.length} stale temp director(y|ies) \\(\\d+ bytes, [\\d.]+ MB\\) of dead runs \\(pid ${pid}\\)${orphans ? '(; killed \\d+ orphaned QEMU process)?' : ''}`));
      if (!orphans) assert.not.match(next.stderr(), /orphaned QEMU/);
      assert.equal(readdirSync(root), []);
      assert.equal(processesUnder(root), []);
    } finally {
      await reap(root, ...runs);
    }
  });

  test('qmp record: SIGTERM mid-recording: exit 143, no directory, no daemon left', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bg-sig-spec-'));
    const work = mkdtempSync(join(tmpdir(), 'bg-sig-spec-scn-'));
    const runs: Run[] = [];
    try {
      const scn = join(work, 'long.json');
      const steps = [{ execute: 'blockdev-add', arguments: { driver: 'file', 'node-name': 'f', filename: 'a.raw' } },
        ...Array.from({ length: 5000 }, () => ({ execute: 'query-named-block-nodes' }))];
      writeFileSync(scn, JSON.stringify({ name: 'long', description: 'a long recording', covers: ['spec'], images: [{ file: 'a.raw', format: 'raw', size: '1M' }], steps }));
      const run = cli(root, ['qmp', 'record', scn, '--out', join(work, 'out.json')]);
      runs.push(run);
      await midRun(root, run, 'blockgraph-rec');
      run.child.kill('SIGTERM');
      const { code } = await run.done;
      assert.is(code, 143, run.stderr());
      await sleep(200);
      assert.equal(readdirSync(root), []);
      assert.equal(processesUnder(root), []);
    } finally {
      await reap(root, ...runs);
      rmSync(work, { recursive: true, force: true });
    }
  });
}

test.run();
