// Concurrency beyond specs/engine and specs/store: the CLI's exit code for a store held by another
// process, a stale second engine on one log (refused, nothing half-applied), and tail subscribers
// joining mid-load across processes' streams and refusals.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine, FIXED_CLOCK } from '../../engine/engine.js';
import { stateHash } from '../../graph/hash.js';
import { replay } from '../../replay/replay.js';
import { openClassic, openMemory } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';

test('a store held by another process: the CLI exits 4 with BG_LOG_LOCKED', async () => {
  const t = tempDir();
  try {
    const db = join(t.dir, 'db');
    await (await openClassic(db)).close();
    const child = spawn(process.execPath, ['--import', 'tsx', 'specs/store/fixtures/hold-lock.ts', db], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((res) => child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) res(); }));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'show', '--db', db], { encoding: 'utf8' });
    child.stdin!.end();
    await new Promise((res) => child.once('exit', res));
    assert.is(r.status, 4, r.stderr);
    assert.match(r.stderr, /BG_LOG_LOCKED/);
  } finally {
    t.done();
  }
});

test('two engines on one log: the stale one is refused (BG_LOG_CONFLICT) and leaves nothing behind', async () => {
  const log = await openMemory();
  const a = await Engine.open(log, { clock: FIXED_CLOCK });
  const b = await Engine.open(log, { clock: FIXED_CLOCK });
  await a.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': 'a0' });
  const head = log.head;
  try {
    await b.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': 'b0' });
    assert.unreachable('stale writer');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'BG_LOG_CONFLICT');
  }
  assert.is(log.head, head, 'nothing written');
  await a.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': 'a1' });
  const f = await replay(log, { fromScratch: true });
  assert.equal(Object.keys(f.state.A!.nodes!).sort(), ['a0', 'a1']);
  assert.equal(f.open.size, 0);
});

test('tail subscribers joining mid-load see every record exactly once (two procs, refusals, txns)', async () => {
  const log = await openMemory();
  const e = await Engine.open(log, { clock: FIXED_CLOCK });
  const early: number[] = [];
  const late: number[] = [];
  const s1 = log.tail(1).subscribe((r) => early.push(r.seq));
  let s2: { unsubscribe(): void } | undefined;
  const work = Array.from({ length: 60 }, (_, i) => {
    const p = e.execute(i % 3 ? 'A' : 'B', 'blockdev-add', i % 5 === 0 ? { driver: 'nosuch' } : { driver: 'null-co', 'node-name': `n${i}` });
    if (i === 25) s2 = log.tail(3).subscribe((r) => late.push(r.seq));
    return p;
  });
  await Promise.all(work);
  await new Promise((r) => setTimeout(r, 20));
  s1.unsubscribe();
  s2!.unsubscribe();
  assert.equal(early, Array.from({ length: log.head }, (_, i) => i + 1));
  assert.equal(late, Array.from({ length: log.head - 2 }, (_, i) => i + 3));
  const f = await replay(log, { fromScratch: true });
  assert.is(stateHash(f.state), stateHash(e.state));
});

test.run();
