// SIGHUP (a terminal or ssh session that closes) stops the long-running commands as SIGINT and
// SIGTERM do, as QEMU's daemons stop on all three (os-posix.c os_setup_signal_handling,
// cli/stop-signals.ts). Node's default action for SIGHUP ended `blockgraph drill` at once: its
// children ran on and their temp stores (bg-drill-*) stayed. (`qmp`: specs/qmp/lifecycle.spec.ts.)
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const file = 'oracle/transcripts/abort-10-backup-fails-target-main-loop-survives.json';

test('drill stopped by SIGHUP: children killed, temp stores removed, reported as interrupted, exit 129', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'bg-stop-spec-'));
  try {
    const p = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'drill', file, '--jobs', '2'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
    let out = '';
    let err = '';
    p.stdout!.on('data', (b) => { out += b; });
    p.stderr!.on('data', (b) => { err += b; });
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    let seen = 0;
    for (let i = 0; i < 1200 && seen === 0; i++) {
      seen = readdirSync(tmp).filter((f) => f.startsWith('bg-drill-')).length;
      if (!seen) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(seen > 0, 'children were running when it was stopped');
    await new Promise((r) => setTimeout(r, 300));
    p.kill('SIGHUP');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running after 60 s'), 60_000))]);
    if (code === 'still running after 60 s') p.kill('SIGKILL');
    assert.is(code, 129, err);
    assert.ok(out.includes('interrupted by SIGHUP'), out);
    assert.ok(err.includes('drill interrupted by SIGHUP'), err);
    // the children's SIGKILL and the dirs' removal are awaited before the report
    assert.equal(readdirSync(tmp).filter((f) => f.startsWith('bg-drill-')), [], 'no temp store left behind');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('tail --connect following a live log: SIGUSR1 opens no debugger and SIGALRM does not end it; SIGHUP stops it, exit 0', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'bg-stop-spec-'));
  const cli = (...args: string[]) => spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = cli('qmp', '--db', join(tmp, 'db'), '--socket', join(tmp, 'q.sock'), '--log-socket', join(tmp, 'log.sock'));
  try {
    let serverErr = '';
    server.stderr!.on('data', (b) => { serverErr += b; });
    for (let i = 0; i < 600 && !serverErr.includes('QMP on'); i++) await new Promise((r) => setTimeout(r, 50));
    const p = cli('tail', '--connect', join(tmp, 'log.sock'));
    let out = '';
    let err = '';
    p.stdout!.on('data', (b) => { out += b; });
    p.stderr!.on('data', (b) => { err += b; });
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    for (let i = 0; i < 600 && !out.includes('seq'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(out.includes('seq'), `the header: ${out} ${err}`);
    for (const sig of ['SIGUSR1', 'SIGALRM'] as const) {
      p.kill(sig);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(p.exitCode === null && p.signalCode === null, `${sig}: still following (${p.exitCode ?? p.signalCode})`);
    }
    assert.not.ok(/Debugger listening/.test(err), err);
    p.kill('SIGHUP');
    assert.is(await exited, 0, err);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
