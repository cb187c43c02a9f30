// Stores the CLI did not make (scripts/hostile-cli.ts runs the whole matrix: every read command
// × missing/empty/corrupt/locked/foreign store × --json). What it found, kept here:
// - `image info` opened the store for writing: a read that rewrote the LevelDB files of a store
//   (a new table, MANIFEST and WAL) and created a store where none was.
// - another program's LevelDB read as an empty log: `verify` said ok, and `qmp --db` wrote
//   blockgraph's records beside the other program's keys.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openClassic } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';
import { recordHistory, runCli as bg } from '../render/helpers.js';

const t = tempDir('bg-hostile-store-');
test.after(() => t.done());

/** Every file under dir with its size and mtime: what a read must leave as it was. */
function files(dir: string): string[] {
  let names: string[];
  try { names = readdirSync(dir).sort(); } catch { return ['(absent)']; }
  return names.map((n) => { const st = lstatSync(join(dir, n), { bigint: true }); return `${n} ${st.size} ${st.mtimeNs}`; });
}

test('image info is a read: the store files stay as they were, a missing store is not created', async () => {
  const db = join(t.dir, 'store');
  const log = await openClassic(db);
  await recordHistory(log);
  await log.close();
  const made = await bg('image', 'create', '--db', db, 'a.raw', '1M');
  assert.is(made.status, 0, made.stderr);
  const before = files(db);
  for (const json of [[], ['--json']]) {
    const r = await bg('image', 'info', 'a.raw', '--db', db, ...json);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /a\.raw/);
    assert.equal(files(db), before, `image info ${json.join(' ')} changed no file`);
  }
  const missing = join(t.dir, 'nothing-here');
  const r = await bg('image', 'info', 'a.raw', '--db', missing);
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, /no store at/);
  assert.equal(files(missing), ['(absent)'], 'no store created');
});

test("another program's LevelDB: every command refuses it (exit 2), nothing is written into it", async () => {
  const db = join(t.dir, 'foreign');
  const other = new ClassicLevel<string, string>(db);
  await other.put('hello', 'world');
  await other.put('users/1', '{"name":"x"}');
  await other.close();
  const keys = async () => {
    const d = new ClassicLevel<string, string>(db);
    const all = await d.keys().all();
    await d.close();
    return all;
  };
  const reads = [['verify'], ['verify', '--json'], ['log'], ['log', '--json'], ['show'], ['replay', '--verify'], ['audit', '--json'], ['tail', '--no-follow'],
    ['history', 'n0'], ['render'], ['fixture', 'export'], ['image', 'info', 'a.raw'], ['repair', '--dry-run']];
  for (const c of reads) {
    const r = await bg(...c, '--db', db);
    assert.is(r.status, 2, `${c.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /not a blockgraph store: a LevelDB database holding other keys \("hello"\)/, c.join(' '));
  }
  // a writer (qmp --db, image create) opens it the same way: refused before any record
  await openClassic(db).then(
    () => assert.unreachable('a foreign LevelDB opened as a log'),
    (e: { code?: string }) => assert.is(e.code, 'BG_BAD_INPUT'),
  );
  const w = await bg('image', 'create', '--db', db, 'a.raw', '1M');
  assert.is(w.status, 2, w.stderr);
  const rep = await bg('repair', '--db', db);
  assert.is(rep.status, 2, rep.stdout + rep.stderr);
  assert.equal(await keys(), ['hello', 'users/1'], 'the other program keeps its keys and only those');
  assert.ok(!readdirSync(db).some((n) => n.startsWith('blockgraph') || n.includes('quarantine')), `no file of ours: ${readdirSync(db).join(' ')}`);
});

test('an empty LevelDB (a store with no record yet) is still a store', async () => {
  const db = join(t.dir, 'empty-level');
  const d = new ClassicLevel(db);
  await d.open();
  await d.close();
  const r = await bg('verify', '--db', db);
  assert.is(r.status, 0, r.stderr);
  const w = await bg('image', 'create', '--db', db, 'a.raw', '1M');
  assert.is(w.status, 0, w.stderr);
});

test.run();
