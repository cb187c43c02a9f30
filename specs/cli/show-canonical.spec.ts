// Round 4 of the hostile inputs: `show --json` printed the state's keys in the order the fold
// happened to build them, so the same graph came out as different bytes depending on whether it
// was folded from a snapshot (canonical, sorted) or from the records (insertion order): after a
// damaged newest snapshot `show` folded from an older one, or from scratch, and its output changed
// though the graph had not. Now every object's keys are printed in canonical order (UTF-16 code
// units, as canonicalJson and the state hash order them).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../engine/engine.js';
import { openClassic } from '../../store/index.js';
import { tempDir } from '../engine/helpers.js';
import { runCli, stepClock } from '../render/helpers.js';

/** The same commands into a store, with snapshots (every record) or without. */
async function build(dir: string, snapshotEvery: number): Promise<number> {
  const log = await openClassic(dir);
  const engine = await Engine.open(log, { clock: stepClock(), snapshotEvery });
  // names and members added out of their sorted order
  for (const [name, extra] of [['zeta', {}], ['mid', { 'read-only': true }], ['alpha', { 'detect-zeroes': 'on' }]] as const) {
    const r = await engine.execute('A', 'blockdev-add', { driver: 'null-co', 'node-name': name, ...extra });
    assert.ok(!('error' in r.reply), JSON.stringify(r.reply));
  }
  const r = await engine.execute('A', 'blockdev-add', { driver: 'raw', 'node-name': 'top', file: 'zeta' });
  assert.ok(!('error' in r.reply), JSON.stringify(r.reply));
  // more commands, so that a snapshot built in slices is complete
  for (let i = 0; i < 6; i++) await engine.execute('A', 'blockdev-del', { 'node-name': `nosuch${i}` });
  const head = log.head;
  await log.close();
  return head;
}

test('show --json: the same bytes whether the state was folded from a snapshot or from the records', async () => {
  const t = tempDir('bg-show-canon-');
  try {
    const [ha, hb] = [await build(t.dir + '/snap', 1), await build(t.dir + '/plain', 0)];
    assert.is(ha, hb);
    for (const extra of [[], ['--node', 'top'], ['--chain', 'top'], ['--at', String(ha - 3)]]) {
      const a = await runCli('show', '--db', t.dir + '/snap', '--json', ...extra);
      const b = await runCli('show', '--db', t.dir + '/plain', '--json', ...extra);
      assert.is(a.status, 0, a.stderr);
      assert.is(b.status, 0, b.stderr);
      assert.equal(JSON.parse(a.stdout), JSON.parse(b.stdout), 'the same graph');
      assert.is(a.stdout, b.stdout, `show --json ${extra.join(' ')}: the same bytes`);
    }
    for (const args of [['show'], ['show', '--chain', 'top'], ['diff', '1', String(ha)], ['diff', '1', String(ha), '--json'], ['render', '--format', 'dot']]) {
      const a = await runCli(...args, '--db', t.dir + '/snap');
      const b = await runCli(...args, '--db', t.dir + '/plain');
      assert.is(a.status, 0, a.stderr);
      assert.is(a.stdout, b.stdout, `${args.join(' ')}: the same bytes`);
    }
  } finally {
    t.done();
  }
});

test.run();
