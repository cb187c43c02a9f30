// A read killed by a signal leaves its private view behind (no handler runs on SIGKILL); the next
// read that makes a view in the same place removes the views whose process is gone, and nothing
// else: a live process's view, a name of another shape, and the store stay as they were.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from '../engine/helpers.js';
import { staleViewWork } from '../../store/read-only.js';
import { openReadOnly } from '../../store/index.js';
import { fileHashes, makePristine, type Pristine } from './fault-matrix.js';

const t = tempDir('bg-rostale-');
const savedTmp = process.env.TMPDIR;
let pristine: Pristine;

test.before(async () => {
  // os.tmpdir() reads TMPDIR at each call: the views go into this test's own directory
  process.env.TMPDIR = join(t.dir, 'tmp');
  mkdirSync(process.env.TMPDIR);
  pristine = await makePristine(join(t.dir, 'store'), 40, 16 * 1024);
});
test.after(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = savedTmp;
  t.done();
});

test('a view left by a dead process is removed by the next read; live views and other names are kept', async () => {
  const tmp = process.env.TMPDIR!;
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid names no process
  const view = (name: string) => {
    mkdirSync(join(tmp, name));
    writeFileSync(join(tmp, name, 'CURRENT'), 'MANIFEST-000001\n');
    return name;
  };
  const left = view(`bg-ro-${dead}-aB3xZ9`);
  const live = view(`bg-ro-${process.ppid}-Qw3rty`); // the test runner: alive
  const other = view(`bg-ro-${dead}-not-a-view`);
  const foreign = view(`bg-rox-${dead}-aB3xZ9`);
  const before = fileHashes(pristine.dir);
  staleViewWork.removed = 0;
  const log = await openReadOnly(pristine.dir);
  assert.is(log.head, pristine.head);
  const mine = readdirSync(tmp).filter((n) => n.startsWith(`bg-ro-${process.pid}-`));
  assert.is(mine.length, 1, 'the open view is named after this process');
  await log.close();
  assert.not.ok(existsSync(join(tmp, left)), 'the dead process\'s view is gone');
  assert.is(staleViewWork.removed, 1);
  for (const kept of [live, other, foreign]) assert.ok(existsSync(join(tmp, kept)), kept);
  assert.equal(readdirSync(tmp).filter((n) => n.startsWith(`bg-ro-${process.pid}-`)), [], 'its own view removed at close');
  assert.equal(fileHashes(pristine.dir), before, 'the store is untouched');
});

test.run();
