// `render --out FILE`, `fixture export --out FILE`, `qmp run --out FILE` into a hostile place
// (docs/hostile.md, round 6): they followed a symlink planted at FILE (writeFileSync opens with
// O_TRUNC through it: a shared /tmp's `graph.dot -> ~/.bashrc` had its target overwritten) and
// wrote through a hard link. Now a symlink or non-regular FILE is refused (BG_BAD_INPUT, exit 2,
// nothing written) and the text goes to a temp file beside FILE renamed onto it.
import { execFileSync } from 'node:child_process';
import { linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { openClassic } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';
import { inProcess } from '../store/fault-matrix.js';

const clock = () => '2026-12-03T00:00:00.000Z';

async function store(dir: string): Promise<void> {
  const log = await openClassic(dir);
  const e = await Engine.open(log, { clock });
  for (let i = 0; i < 3; i++) await e.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': `n${i}` });
  await log.close();
}

const writers = (db: string, out: string): string[][] => [
  ['render', '--db', db, '--out', out],
  ['fixture', 'export', '--db', db, '--out', out],
];

test('a symlink at --out FILE is refused, its target untouched (render, fixture export)', async () => {
  const t = tempDir('bg-out-file-');
  try {
    const db = join(t.dir, 'db');
    await store(db);
    const victim = join(t.dir, 'victim');
    writeFileSync(victim, 'not yours');
    const out = join(t.dir, 'out.dot');
    symlinkSync(victim, out);
    for (const args of writers(db, out)) {
      const r = await inProcess(args);
      assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /--out .*out\.dot: a symbolic link; not writing through it .*\[BG_BAD_INPUT\]/);
      assert.is(readFileSync(victim, 'utf8'), 'not yours');
      assert.ok(lstatSync(out).isSymbolicLink(), 'the link itself is left alone');
    }
    // a dangling link (its target would be created) likewise
    const dangling = join(t.dir, 'dangling.dot');
    symlinkSync(join(t.dir, 'made-by-us'), dangling);
    const r = await inProcess(['render', '--db', db, '--out', dangling]);
    assert.is(r.status, 2, r.stderr);
    assert.not.ok(readdirSync(t.dir).includes('made-by-us'));
    assert.equal(readdirSync(t.dir).filter((f) => f.includes('.bg-')), [], 'no temp file left');
  } finally {
    t.done();
  }
});

test('a hard link at --out FILE is replaced, not written through; a regular FILE is rewritten whole', async () => {
  const t = tempDir('bg-out-file-');
  try {
    const db = join(t.dir, 'db');
    await store(db);
    const victim = join(t.dir, 'victim');
    writeFileSync(victim, 'not yours');
    for (const [i, args] of writers(db, join(t.dir, 'x')).entries()) {
      const out = join(t.dir, `out${i}`);
      linkSync(victim, out);
      args[args.length - 1] = out;
      const r = await inProcess(args);
      assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.is(readFileSync(victim, 'utf8'), 'not yours');
      assert.is(lstatSync(out).nlink, 1);
      assert.ok(readFileSync(out, 'utf8').length > 20);
      // again onto the file it made: rewritten, still one file
      const again = await inProcess(args);
      assert.is(again.status, 0, again.stderr);
    }
    assert.equal(readdirSync(t.dir).filter((f) => f.includes('.bg-')), [], 'no temp file left');
  } finally {
    t.done();
  }
});

test('a directory, a fifo or a missing directory at --out: exit 2 naming FILE, no stack', async () => {
  const t = tempDir('bg-out-file-');
  try {
    const db = join(t.dir, 'db');
    await store(db);
    mkdirSync(join(t.dir, 'adir'));
    execFileSync('mkfifo', [join(t.dir, 'fifo')]);
    for (const [out, why] of [[join(t.dir, 'adir'), /a directory; not writing through it/], [join(t.dir, 'fifo'), /a fifo; not writing through it/], [join(t.dir, 'no', 'such', 'f.dot'), /cannot create it in .*: ENOENT/]] as const) {
      for (const args of writers(db, out)) {
        const r = await inProcess(args);
        assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, why);
        assert.match(r.stderr, /\[BG_BAD_INPUT\]/);
        assert.not.match(r.stderr, /\n\s+at /);
      }
    }
  } finally {
    t.done();
  }
});

test('an empty --out and a name too long: exit 2 (was: stdout, and BG_STORAGE_IO exit 74)', async () => {
  const t = tempDir('bg-out-file-');
  try {
    const db = join(t.dir, 'db');
    await store(db);
    for (const args of writers(db, '')) {
      const r = await inProcess(args);
      assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /--out.*an empty path/);
      assert.is(r.stdout, '');
    }
    for (const args of writers(db, join(t.dir, 'a'.repeat(300)))) {
      const r = await inProcess(args);
      assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /cannot write it: ENAMETOOLONG \[BG_BAD_INPUT\]/);
    }
    // a name of 250 chars is fine, though its temp name would be too long in full
    const long = join(t.dir, 'b'.repeat(250));
    const r = await inProcess(['render', '--db', db, '--out', long]);
    assert.is(r.status, 0, r.stderr);
    assert.ok(readFileSync(long, 'utf8').startsWith('digraph'));
  } finally {
    t.done();
  }
});

test.run();
