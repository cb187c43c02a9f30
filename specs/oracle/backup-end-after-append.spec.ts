// QEMU 10.0 dies ending a backup job after a snapshot appended an overlay over its source (fuzz on
// 10.0, seed 2026120298, case 3742319275, wt-fz1; the mechanism wt-fz3 found from 3776961068: rule
// 'drop-filter-frees-child-asserts', graph/jobs/drop-filter.ts): 7.2 carries it
// out (oracle/transcripts/fuzz-found/7.2-only-abort-20-backup-end-after-snapshot.json), the model
// under 10.0's rules refuses the command the daemon dies at (job-finalize, job-cancel) and leaves
// the state as it was; the generator never sends the snapshot, but sends the survivor's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isWaitStep, parseTranscript, scenarioOf, type Scenario, type Step } from '../../oracle/format.js';
import { TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { runOnModel } from '../../oracle/run-model.js';
import { knownAbort, World } from '../../oracle/fuzz/index.js';

const scenario = (file: string): Scenario => scenarioOf(parseTranscript(readFileSync(join(TRANSCRIPTS_DIR, file), 'utf8')));
const DIES = scenario('fuzz-found/7.2-only-abort-20-backup-end-after-snapshot.json');
const FINALIZE = DIES.steps.findIndex((s) => !isWaitStep(s) && s.execute === 'job-finalize');

const REFUSAL = /^Dropping job filter '[^']+' frees its child 'n10', which nothing else references \(QEMU 10\.0 aborts here: bdrv_drop_filter -> bdrv_drained_end of the freed child: bdrv_do_drained_end: Assertion `bs->quiesce_counter > 0' failed\); refused by blockgraph/;

for (const verb of ['job-finalize', 'job-cancel']) {
  test(`10.0: ${verb} of a backup whose source got a snapshot is refused, the state kept; 7.2 carries it out`, async () => {
    const steps: Step[] = [...DIES.steps.slice(0, FINALIZE), { execute: verb, arguments: { id: 'd7' } }, { execute: 'query-jobs' }];
    const t10 = await runOnModel({ ...DIES, steps }, undefined, { qemuVersion: '10.0' });
    const last = t10.steps[FINALIZE]!;
    assert.ok(!isWaitStep(last) && !last.result.ok);
    if (!isWaitStep(last) && !last.result.ok) assert.match(last.result.desc, REFUSAL);
    assert.equal(last.events, []);
    assert.equal(t10.steps[FINALIZE + 1]!.graph, t10.steps[FINALIZE - 1]!.graph, 'nothing of it applied: the job and its filter are still there');
    const t72 = await runOnModel({ ...DIES, steps }, undefined, { qemuVersion: '7.2' });
    const l72 = t72.steps[FINALIZE]!;
    assert.ok(!isWaitStep(l72) && l72.result.ok, verb);
  });
}

test('the generator avoids the snapshot over a backup job\'s source, not over a blockdev-add filter\'s file', async () => {
  const verdict = async (s: Scenario, at: number): Promise<string | undefined> => {
    const t = await runOnModel({ ...s, steps: s.steps.slice(0, at) });
    const w = new World();
    for (const [i, out] of t.steps.entries()) w.observe(s.steps[i]!, out);
    return knownAbort(s.steps[at]!, w.proc('A'));
  };
  const snap = (s: Scenario) => s.steps.findIndex((x) => !isWaitStep(x) && x.execute === 'blockdev-snapshot-sync');
  assert.match((await verdict(DIES, snap(DIES))) ?? '', /^QEMU 10\.0 abort: blockdev-snapshot-sync of 'n3' under a job's filter/);
  const survives = scenario('abort-20-backup-end-after-snapshot-survives.json');
  assert.is(await verdict(survives, snap(survives)), undefined);
});

test.run();
