// A full disk under a serving store (a 2 MiB tmpfs, where this machine lets us mount one): the
// command in flight is refused with a GenericError, nothing is acknowledged that is not in
// the log, the server keeps answering, and commands work again once space is back.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServedStore } from '../../cli/live-store.js';
import { FIXED_CLOCK } from '../../engine/engine.js';
import { ClassicLevel } from 'classic-level';
import { seqKey } from '../../store/codec.js';
import { verifyStore } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';
import { inProcess } from './fault-matrix.js';

function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The filesystem under the store: filled until a write fails, and freed again. */
interface Disk {
  fill(): void;
  free(): void;
}

/**
 * One ENOSPC test: `body` runs with a 2 MiB tmpfs mounted at `mnt` (skipped where this machine
 * cannot mount one); it is unmounted afterwards whatever happens.
 */
function enospcTest(name: string, body: (mnt: string, disk: Disk) => Promise<void>): void {
  test(name, async () => {
    const t = tempDir('bg-enospc-');
    const mnt = join(t.dir, 'mnt');
    mkdirSync(mnt);
    if (!mountTmpfs(mnt, '2m')) {
      console.log('  skipped: cannot mount a tmpfs here');
      t.done();
      return;
    }
    let fillers: string[] = [];
    const disk: Disk = {
      fill: () => { fillers.push(...fill(mnt)); },
      free: () => { for (const f of fillers) rmSync(f, { force: true }); fillers = []; },
    };
    try {
      await body(mnt, disk);
    } finally {
      try { execFileSync('umount', [mnt], { stdio: 'ignore' }); } catch { /* best effort */ }
      t.done();
    }
  });
}

/** Fills the filesystem until write fails; returns the filler files. */
function fill(dir: string): string[] {
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const f = join(dir, `filler-${i}`);
    const free = Number(statfsSync(dir).bavail) * Number(statfsSync(dir).bsize);
    if (free <= 0) return out;
    try {
      writeFileSync(f, Buffer.alloc(Math.max(4096, Math.min(free, 1 << 20))));
      out.push(f);
    } catch {
      out.push(f);
      return out;
    }
  }
}

enospcTest('ENOSPC: refused with GenericError, the server stays up, works again once space is back', async (mnt, disk) => {
  const db = join(mnt, 'db');
  const store = await ServedStore.open(db, { clock: FIXED_CLOCK, snapshotEvery: 50 });
  const acked: string[] = [];
  const refused: string[] = [];
  let n = 0;
  const create = async () => {
    const name = `img${n++}.raw`;
    const r = await store.execute('host', 'x-blockgraph-image-create', { file: name, format: 'raw', size: '1M' });
    if ('return' in r.reply) acked.push(name);
    else refused.push(name);
    return r.reply as { return?: unknown; error?: { class: string; desc: string } };
  };
  for (let i = 0; i < 5; i++) assert.ok('return' in (await create()));
  disk.fill();
  let refusal: { class: string; desc: string } | undefined;
  for (let i = 0; i < 400 && !refusal; i++) refusal = (await create()).error;
  assert.ok(refusal, 'a command was refused on the full disk');
  assert.is(refusal!.class, 'GenericError');
  assert.match(refusal!.desc, /could not be written/);
  // Still serving: a query answers, and more writes are refused, not fatal.
  const again = await create();
  assert.ok('error' in again);
  disk.free();
  const back = await create();
  assert.ok('return' in back, JSON.stringify(back));
  assert.ok('return' in (await create()));
  await store.close();
  console.log(`  full disk: ${acked.length} acknowledged, ${refused.length} refused (${refusal!.desc})`);

  const v = await verifyStore(db);
  assert.ok(v.ok, JSON.stringify(v));
  const show = await inProcess(['show', '--json', '--db', db]);
  assert.is(show.status, 0, show.stderr);
  for (const name of acked) assert.ok(show.stdout.includes(`"${name}"`), `acknowledged ${name} is in the log`);
  for (const name of refused) assert.not.ok(show.stdout.includes(`"${name}"`), `refused ${name} is not in the state`);
});

enospcTest('ENOSPC: a refusal of malformed input answered on a full disk is reported as not logged (once), and counted when the store is back', async (mnt, disk) => {
  const warns: string[] = [];
  const db = join(mnt, 'db');
  const store = await ServedStore.open(db, { clock: FIXED_CLOCK, snapshotEvery: 50, warn: (m: string) => warns.push(m) });
  let n = 0;
  const create = async () => (await store.execute('host', 'x-blockgraph-image-create', { file: `img${n++}.raw`, format: 'raw', size: '1M' })).reply as { error?: unknown };
  disk.fill();
  let refused = false;
  for (let i = 0; i < 400 && !refused; i++) refused = 'error' in (await create());
  assert.ok(refused, 'a command was refused on the full disk');
  for (let i = 0; i < 3; i++) await store.reject('A', { input: 'garbage', bytes: 7, error: { class: 'GenericError', desc: "JSON parse error, invalid keyword 'garbage'" } });
  await store.reject('A', [{ input: ']' }, { input: ']' }]);
  const notLogged = warns.filter((w) => /not logged/.test(w));
  assert.is(notLogged.length, 1, `one report for the episode, got: ${warns.join(' | ')}`);
  disk.free();
  assert.ok(!('error' in (await create())), 'writable again');
  assert.ok(warns.some((w) => /writable again; 5 refusal record\(s\) of malformed input were not logged meanwhile/.test(w)), warns.join(' | '));
  // and a refusal is logged again
  await store.reject('A', { input: 'after' });
  await store.close();
  const audit = await inProcess(['log', '--json', '--db', db]);
  assert.is(audit.status, 0, audit.stderr);
  assert.ok((JSON.parse(audit.stdout) as { type: string; data: { input?: string } }[]).some((r) => r.type === 'command.rejected' && r.data.input === 'after'), 'the refusal after the episode is logged');
});

enospcTest('ENOSPC during repair: a clear refusal (exit 74, no stack), and repair works once space is back', async (mnt, disk) => {
  const db = join(mnt, 'db');
  const store = await ServedStore.open(db, { clock: FIXED_CLOCK, snapshotEvery: 0 });
  // 60 commands of one record each (events/whole.ts): the hole at 30 lies inside the log
  for (let i = 0; i < 60; i++) await store.execute('host', 'x-blockgraph-image-create', { file: `i${i}.raw`, format: 'raw', size: '1M' });
  await store.close();
  // A hole in the middle of the log: repair must move the records after it to quarantine.
  const raw = new ClassicLevel<string, string>(db, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await raw.open();
  await raw.put(`!log!${seqKey(30)}`, '0'.repeat(200));
  await raw.close();
  disk.fill();
  const r = await inProcess(['repair', '--db', db]);
  assert.ok(r.status === 74 || r.status === 3, `exit ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, /BG_STORAGE_IO|BG_STORE_DAMAGED/);
  assert.not.match(r.stderr, /\n\s+at /);
  disk.free();
  const ok = await inProcess(['repair', '--json', '--db', db]);
  assert.is(ok.status, 0, ok.stderr);
  const rep = JSON.parse(ok.stdout) as { head: number; quarantined: number; verifyOnTheirOwn: number };
  assert.is(rep.head, 29);
  // The zeroed record fails; so does the one after it: a frame-2 record (store/codec.ts) keeps
  // only a 64-bit link to its predecessor's hash, so it cannot be checked without that record.
  // Every one after those two checks against the hash its sound predecessor claims.
  assert.ok(rep.quarantined >= 30 && rep.verifyOnTheirOwn === rep.quarantined - 2, ok.stdout); // 60 commands of 1 record
  assert.is((await inProcess(['verify', '--db', db])).status, 0);
});

enospcTest('ENOSPC: read-only queries are answered from the last durable state, refusals with their error (their records\' loss reported), changes refused', async (mnt, disk) => {
  const warns: string[] = [];
  const db = join(mnt, 'db');
  const store = await ServedStore.open(db, { clock: FIXED_CLOCK, snapshotEvery: 50, warn: (m: string) => warns.push(m) });
  try {
    const ask = async (command: string, args?: Record<string, unknown>) => (await store.execute('host', command, args)).reply as { return?: unknown; error?: { class: string; desc: string } };
    const reads: [string, Record<string, unknown>?][] = [['query-named-block-nodes'], ['query-version'], ['query-block-jobs'], ['query-block'], ['query-named-block-nodes', { flat: true }]];
    let n = 0;
    const add = () => ask('blockdev-add', { driver: 'null-co', 'node-name': `n${n++}`, size: 1048576 });
    for (let i = 0; i < 3; i++) assert.ok('return' in (await add()));
    const before = await Promise.all(reads.map(([c, a]) => ask(c, a)));
    disk.fill();
    let refused: { desc: string } | undefined;
    for (let i = 0; i < 400 && !refused; i++) {
      const r = await add();
      refused = r.error;
      if ('return' in r) before.splice(0, before.length, ...await Promise.all(reads.map(([c, a]) => ask(c, a)))); // acknowledged: durable
    }
    assert.ok(refused, 'a change was refused on the full disk');
    assert.match(refused!.desc, /could not be written/);
    // QSD answers its queries whatever its disk does: so do we, from what the log holds
    for (let round = 0; round < 2; round++) {
      const during = await Promise.all(reads.map(([c, a]) => ask(c, a)));
      assert.equal(during, before, 'each query answers as it did before the disk filled');
    }
    // a command refused by the model: QSD's error, its command.rejected record's loss reported once
    const del = await ask('blockdev-del', { 'node-name': 'nope' });
    assert.equal(del.error, { class: 'GenericError', desc: "Failed to find node with node-name='nope'" });
    const bad = await ask('query-named-block-nodes', { flat: 'yes' });
    assert.is(bad.error?.class, 'GenericError');
    assert.not.match(bad.error!.desc, /could not be written/);
    assert.is(warns.filter((w) => /not logged/.test(w)).length, 1, warns.join(' | '));
    // a change is still refused: it could not be made durable
    const more = await add();
    assert.match(more.error?.desc ?? '', /could not be written/);
    disk.free();
    assert.ok('return' in (await add()), 'writable again');
    assert.ok(warns.some((w) => /writable again; 2 record\(s\) of refused commands were not logged meanwhile/.test(w)), warns.join(' | '));
  } finally {
    await store.close(); // else its read socket keeps a failed run alive
  }
  assert.ok((await verifyStore(db)).ok);
});

test.run();
