// Reads of a sound store whose disk is full (docs/hostile.md round 7, item 2): the private view a
// read makes is put beside the store when the temp dir is on another filesystem (hard links need
// one), and its copied WAL, CURRENT and MANIFEST (and LevelDB's recovery in it) need the store's
// disk: on a full disk every `show`, `verify`, `report`, `fixture export` failed with ENOSPC
// (BG_STORAGE_IO, exit 74) though nothing had to be written to the store. The view is now made as
// a whole copy in the temp dir when the store's disk refuses it.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { openClassic, openReadOnly } from '../../store/index.js';
import { readOnlyWork } from '../../store/read-only.js';
import { tempDir } from '../engine/helpers.js';

const clock = () => '2026-12-03T00:00:00.000Z';

function files(dir: string): string {
  return readdirSync(dir).sort().map((n) => `${n} ${statSync(join(dir, n)).size} ${readFileSync(join(dir, n)).toString('base64').length}`).join('\n');
}

test('a sound store on a full disk is read (a whole copy in the temp dir), and not written', async () => {
  const t = tempDir('bg-rofull-');
  const mnt = join(t.dir, 'mnt');
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    console.log('  skipped: cannot mount a tmpfs here');
    t.done();
    return;
  }
  try {
    const src = join(t.dir, 'src');
    const log = await openClassic(src);
    const e = await Engine.open(log, { clock });
    for (let i = 0; i < 20; i++) await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
    const head = log.head;
    await log.close();
    const db = join(mnt, 'db');
    cpSync(src, db, { recursive: true });
    // the rest of the disk taken
    try { writeFileSync(join(mnt, 'filler'), Buffer.alloc(4 << 20)); } catch { /* ENOSPC: full */ }
    const before = files(db);
    const copied = readOnlyWork.copiedElsewhere;
    const view = await openReadOnly(db);
    try {
      assert.is(view.head, head);
      assert.is((await view.readAll()).length, head);
    } finally {
      await view.close();
    }
    assert.is(readOnlyWork.copiedElsewhere, copied + 1, 'the view was made in the temp dir');
    assert.is(files(db), before, 'the store unchanged');
  } finally {
    try { execFileSync('umount', [mnt], { stdio: 'ignore' }); } catch { /* best effort */ }
    t.done();
  }
});

test.run();
