// QEMU 10.0 dies ending a backup job whose copy-before-write filter holds, alone, an overlay that a
// blockdev-snapshot-sync made in the *same transaction* as the backup (wt-ab10, probed live: the
// backup action before the snapshot of its device, or the backup of the overlay an earlier
// snapshot-sync action made). The mechanism is rule 'drop-filter-frees-child-asserts'
// (graph/jobs/drop-filter.ts): the model under 10.0 refuses the command the daemon dies at; 7.2
// carries out the first form (fuzz-found/7.2-only-abort-21-txn-backup-then-snapshot-sync) and dies
// on the second in bdrv_close (the block-copy bitmap left on the freed overlay). The generator
// (oracle/fuzz/aborts.ts snapshotSyncUnderJobFilter) avoids both and sends the abort-21 survivors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isWaitStep, parseTranscript, scenarioOf, type JsonObject, type Scenario, type Step } from '../../oracle/format.js';
import { TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { runOnModel } from '../../oracle/run-model.js';
import { knownAbort, World } from '../../oracle/fuzz/index.js';

const scenario = (file: string): Scenario => scenarioOf(parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, file), 'utf8')));
const DIES = scenario('fuzz-found/7.2-only-abort-21-txn-backup-then-snapshot-sync.json');
const at = (s: Scenario, execute: string): number => s.steps.findIndex((x) => !isWaitStep(x) && x.execute === execute);
const TXN = at(DIES, 'transaction');
const FINALIZE = at(DIES, 'job-finalize');
const txnStep = (s: Scenario): Step & { arguments: JsonObject } => s.steps[TXN] as Step & { arguments: JsonObject };
const actions = (s: Scenario): JsonObject[] => txnStep(s).arguments.actions as JsonObject[];
const withActions = (acts: JsonObject[]): Scenario =>
  ({ ...DIES, steps: DIES.steps.map((x, i) => (i === TXN ? { ...txnStep(DIES), arguments: { actions: acts } } : x)) });
const [BACKUP, SNAP] = actions(DIES) as [JsonObject, JsonObject];
/** The overlay's backup: a snapshot-sync of n0 into n4, then a backup of n4 (the overlay), one transaction. */
const OVERLAY_BACKUP = withActions([SNAP, { ...BACKUP, data: { ...(BACKUP.data as JsonObject), device: 'n4' } }]);

const FREES = /^Dropping job filter '[^']+' frees its child 'n4', which nothing else references \(QEMU 10\.0 aborts here: bdrv_drop_filter/;

for (const verb of ['job-finalize', 'job-cancel']) {
  test(`10.0: ${verb} of a backup whose transaction then snapshot-synced its device is refused, the state kept; 7.2 carries it out`, async () => {
    const steps: Step[] = [...DIES.steps.slice(0, FINALIZE), { execute: verb, arguments: { id: 'd1' } }, { execute: 'query-jobs' }];
    const t10 = await runOnModel({ ...DIES, steps }, undefined, { qemuVersion: '10.0' });
    const last = t10.steps[FINALIZE]!;
    assert.ok(!isWaitStep(last) && !last.result.ok);
    if (!isWaitStep(last) && !last.result.ok) assert.match(last.result.desc, FREES);
    assert.equal(last.events, []);
    assert.equal(t10.steps[FINALIZE + 1]!.graph, t10.steps[FINALIZE - 1]!.graph, 'nothing of it applied');
    const t72 = await runOnModel({ ...DIES, steps }, undefined, { qemuVersion: '7.2' });
    const l72 = t72.steps[FINALIZE]!;
    assert.ok(!isWaitStep(l72) && l72.result.ok, verb);
  });
}

test('the backup of an overlay its own transaction snapshot-synced: refused at the job\'s end on both versions', async () => {
  for (const [v, why] of [['10.0', FREES], ['7.2', /^Cannot close node 'n4': the block-copy bitmap of copy-before-write filter/]] as const) {
    const t = await runOnModel(OVERLAY_BACKUP, undefined, { qemuVersion: v });
    const fin = t.steps[FINALIZE]!;
    assert.ok(!isWaitStep(fin) && !fin.result.ok, v);
    if (!isWaitStep(fin) && !fin.result.ok) assert.match(fin.result.desc, why);
  }
});

const verdict = async (s: Scenario, i: number): Promise<string | undefined> => {
  const t = await runOnModel({ ...s, steps: s.steps.slice(0, i) });
  const w = new World();
  for (const [k, out] of t.steps.entries()) w.observe(s.steps[k]!, out);
  return knownAbort(s.steps[i]!, w.proc('A'));
};

test('the generator avoids a transaction\'s backup followed by a snapshot-sync of its device, and the overlay\'s backup', async () => {
  assert.match((await verdict(DIES, TXN)) ?? '', /^QEMU 10\.0 abort: blockdev-snapshot-sync of 'n0' after a backup of it in the same transaction/);
  const drive = withActions([{ type: 'drive-backup', data: { 'job-id': 'd1', device: 'n0', target: 'db.qcow2', format: 'qcow2', sync: 'full' } }, SNAP]);
  assert.match((await verdict(drive, TXN)) ?? '', /after a backup of it in the same transaction/);
  assert.match((await verdict(OVERLAY_BACKUP, TXN)) ?? '', /^QEMU 10\.0 abort: a backup in a transaction of 'n4', the overlay its blockdev-snapshot-sync made/);
  // a blockdev-add'ed overlay between them moves the filter's link on: a snapshot-sync of it comes under the filter
  const chained = withActions([BACKUP, { type: 'blockdev-snapshot', data: { node: 'n0', overlay: 'o' } }, { ...SNAP, data: { ...(SNAP.data as JsonObject), 'node-name': 'o' } }]);
  assert.match((await verdict(chained, TXN)) ?? '', /blockdev-snapshot-sync of 'o' after a backup of it/);
});

test('the generator sends the abort-21 survivors', async () => {
  // (the third survivor, a later action failing, is avoided: the view cannot tell which action fails)
  for (const f of ['abort-21-txn-snapshot-sync-then-backup-survives.json', 'abort-21-txn-backup-then-snapshot-added-survives.json']) {
    const s = scenario(f);
    assert.is(await verdict(s, at(s, 'transaction')), undefined, f);
  }
  // the overlay under the filter moved on to a blockdev-add'ed one in the same transaction
  const rescued = scenario('abort-21-snapshot-sync-under-filter-then-added-overlay-survives.json');
  assert.is(await verdict(rescued, at(rescued, 'transaction')), undefined);
  const alone = { ...rescued, steps: rescued.steps.map((x, i) => (i === at(rescued, 'transaction')
    ? { ...x, arguments: { actions: [((x as Step & { arguments: JsonObject }).arguments.actions as JsonObject[])[0]!] } } : x)) };
  assert.match((await verdict(alone, at(alone, 'transaction'))) ?? '', /^QEMU 10\.0 abort: blockdev-snapshot-sync of 'n0' under a job's filter/);
  // an abort action undoes every action
  assert.is(await verdict(withActions([BACKUP, SNAP, { type: 'abort', data: {} }]), TXN), undefined);
});

test.run();
