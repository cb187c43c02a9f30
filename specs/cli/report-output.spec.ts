// `report --out DIR` into a hostile directory (docs/hostile.md, round 5): a symlink planted at
// one of its file names (a shared /tmp) and a disk that fills part-way through a run.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeReport, type ReportOptions } from '../../cli/commands/report.js';
import { Engine } from '../../engine/engine.js';
import { openClassic, type EventLog } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

const clock = () => '2026-12-03T00:00:00.000Z';
const opts = (out: string, more: Partial<ReportOptions> = {}): ReportOptions =>
  ({ out, store: 'spec', graphs: 200, pageSize: 500, generatedAt: clock(), ...more });

async function history(dir: string, n: number): Promise<EventLog> {
  const log = await openClassic(dir);
  const e = await Engine.open(log, { clock });
  for (let i = 0; i < n; i++) await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
  return log;
}

test('a symlink at one of the report\'s names is replaced, not followed into its target', async () => {
  const t = tempDir();
  try {
    const log = await history(t.dir + '/db', 3);
    const out = t.dir + '/rep';
    mkdirSync(out + '/entries', { recursive: true });
    writeFileSync(t.dir + '/victim', 'not yours');
    writeFileSync(t.dir + '/victim2', 'not yours either');
    symlinkSync(t.dir + '/victim', out + '/index.html');
    symlinkSync(t.dir + '/victim2', out + '/entries/e1.html');
    await writeReport(log, opts(out));
    assert.is(readFileSync(t.dir + '/victim', 'utf8'), 'not yours');
    assert.is(readFileSync(t.dir + '/victim2', 'utf8'), 'not yours either');
    assert.ok(lstatSync(out + '/index.html').isFile());
    assert.match(readFileSync(out + '/index.html', 'utf8'), /blockgraph report/);
    await log.close();
  } finally {
    t.done();
  }
});

test('a disk that fills part-way: BG_STORAGE_IO naming the file, and no index of pages that are gone', async () => {
  const t = tempDir();
  const mnt = join(t.dir, 'mnt');
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    // where no tmpfs can be mounted the first test still runs; this machine (root) can
    console.log('  (no tmpfs here: the full-disk half not run)');
    t.done();
    return;
  }
  try {
    const log = await history(t.dir + '/db', 60);
    const out = join(mnt, 'rep');
    await writeReport(log, opts(out, { last: 2 }));
    assert.ok(existsSync(join(out, 'index.html')));
    // fill the rest of the disk but about 100 KB: the full report (60 pictures) does not fit
    const free = Number(execFileSync('df', ['--output=avail', '-B1', mnt]).toString().split('\n')[1]);
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, free - 100_000)));
    const err = await writeReport(log, opts(out)).then(() => undefined, (e: { code?: string; message: string }) => e);
    assert.is(err?.code, 'BG_STORAGE_IO', String(err?.message));
    assert.match(err!.message, /cannot write .*rep\/.*ENOSPC; the report is incomplete/);
    // the earlier run's index would link pages this run has removed
    assert.not.ok(existsSync(join(out, 'index.html')), 'no stale index.html');
    assert.not.ok(readdirSync(out).some((f) => f.startsWith('timeline-')) && existsSync(join(out, 'index.html')));
    await log.close();
  } finally {
    try { execFileSync('umount', [mnt], { stdio: 'ignore' }); } catch { /* best effort */ }
    t.done();
  }
});

test.run();
