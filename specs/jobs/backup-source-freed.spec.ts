// fuzz 4103191356: a drive-backup of file node f15, opened inline under raw n14 (only its parent
// holds it); blockdev-del n14 leaves the backup's copy-before-write filter without parents;
// job-finalize drops the filter (bdrv_cbw_drop -> bdrv_drop_filter), which frees f15 with the
// filter's link. QSD 7.2 then dies closing f15 with the filter's copy bitmap still on it (bdrv_close's
// QLIST_EMPTY(&bs->dirty_bitmaps) assertion, graph/ops.ts refuseCloseWithAnonBitmap), 10.0 in
// bdrv_drained_end of the freed node (graph/jobs/drop-filter.ts; both probed live). The model
// refuses the finalize on both, saying so; the generator now avoids the blockdev-del; the boundary (f15
// added on its own, the monitor holds it) is recorded on both and carried out
// (abort-30-backup-source-freed-by-filter-drop-survives).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isWaitStep, type Scenario, type Step } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';
import { knownAbort, World } from '../../oracle/fuzz/index.js';

const tail: Step[] = [
  { execute: 'drive-backup', arguments: { 'job-id': 'd17', device: 'f15', sync: 'full', target: 'db18.qcow2', format: 'qcow2', 'auto-finalize': false, 'auto-dismiss': true } },
  { wait: { job: 'd17', status: 'pending' } },
  { execute: 'blockdev-del', arguments: { 'node-name': 'n14' } },
  { execute: 'job-finalize', arguments: { id: 'd17' } },
];
const inline: Scenario = {
  name: 'backup-source-freed-inline', description: '', covers: [], images: [{ file: 'r.raw', format: 'raw', size: '16M' }],
  steps: [{ execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 'n14', file: { driver: 'file', filename: 'r.raw', 'node-name': 'f15' } } }, ...tail],
};

for (const [version, text] of [['7.2', /^Cannot close node 'f15': the block-copy bitmap of copy-before-write filter '.*' is still on it \(QEMU 7\.2 aborts here: bdrv_close/], ['10.0', /^Dropping job filter '.*' frees its child 'f15'.*QEMU 10\.0 aborts here: bdrv_drop_filter/]] as const) {
  test(`${version}: job-finalize of a backup whose dropped filter frees its inline source is refused as QEMU's death`, async () => {
    const t = await runOnModel(inline, undefined, { qemuVersion: version });
    const [, , , del, fin] = t.steps;
    assert.ok(del && !isWaitStep(del) && del.result.ok, 'the blockdev-del is carried out');
    assert.ok(fin && !isWaitStep(fin) && !fin.result.ok, 'the finalize is refused');
    assert.match(!isWaitStep(fin!) && !fin!.result.ok ? fin!.result.desc : '', text);
  });
}

test('the generator avoids the blockdev-del that leaves the inline source to the filter alone, not the monitor-owned one', async () => {
  const view = async (s: Scenario) => {
    const steps = s.steps.slice(0, 3);
    const t = await runOnModel({ ...s, steps });
    const w = new World();
    for (const [i, out] of t.steps.entries()) w.observe(steps[i]!, out);
    return knownAbort(tail[2]!, w.proc('A'));
  };
  assert.match((await view(inline)) ?? '', /^fuzz 4103191356: blockdev-del of 'n14', the last parent of job filter/);
  const owned: Scenario = { ...inline, steps: [
    { execute: 'blockdev-add', arguments: { driver: 'file', 'node-name': 'f15', filename: 'r.raw' } },
    { execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 'n14', file: 'f15' } }, ...tail] };
  const steps = owned.steps.slice(0, 4);
  const t = await runOnModel({ ...owned, steps });
  const w = new World();
  for (const [i, out] of t.steps.entries()) w.observe(steps[i]!, out);
  assert.is(knownAbort(tail[2]!, w.proc('A')), undefined);
});

test.run();
