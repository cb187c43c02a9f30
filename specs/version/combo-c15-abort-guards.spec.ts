// The fifteenth held-out set (stop 44, wt-combo16) met five known aborts, each on one version:
// the other version's recording is landed, and run under the dying version's rules the model
// refuses the step the daemon died at (the existing crash guards), with the abort named, and runs
// every step before it as recorded.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isWaitStep, parseTranscript, scenarioOf } from '../../oracle/format.js';
import { TRANSCRIPTS_10_0_DIR, TRANSCRIPTS_DIR } from '../../oracle/paths.js';
import { runOnModel } from '../../oracle/run-model.js';

const CASES: { file: string; recordedOn: '7.2' | '10.0'; diesOn: '7.2' | '10.0'; step: number; abort: RegExp }[] = [
  { file: 'combo-c15-b2-quorum-iothread-change-child-context.json', recordedOn: '10.0', diesOn: '7.2', step: 11, abort: /QEMU 7\.2 aborts here: .*qemu_mutex_unlock_impl/ },
  { file: 'combo-c15-b2-reopen-list-refusals-export-iothread.json', recordedOn: '10.0', diesOn: '7.2', step: 12, abort: /QEMU 7\.2 aborts here: qemu_mutex_unlock_impl/ },
  { file: 'combo-c15-b3-cbw-iothread-backup-chain.json', recordedOn: '10.0', diesOn: '7.2', step: 6, abort: /QEMU 7\.2 aborts here: qemu_mutex_unlock_impl/ },
  { file: 'combo-c15-b2-backup-iothread-target-moved-snapshot.json', recordedOn: '7.2', diesOn: '10.0', step: 10, abort: /QEMU 10\.0 aborts here: bdrv_insert_node/ },
  { file: 'combo-c15-b3-drive-backup-exported-iothread-source.json', recordedOn: '7.2', diesOn: '10.0', step: 8, abort: /QEMU 10\.0 aborts here: bdrv_insert_node/ },
];

for (const c of CASES) {
  test(`${c.file}: QEMU ${c.diesOn} dies at step ${c.step}; the model refuses it there under ${c.diesOn}'s rules`, async () => {
    const dir = c.recordedOn === '10.0' ? TRANSCRIPTS_10_0_DIR : TRANSCRIPTS_DIR;
    const rec = parseTranscript(readFileSync(join(dir, c.file), 'utf8'), c.file);
    const s = scenarioOf(rec);
    const t = await runOnModel({ ...s, steps: s.steps.slice(0, c.step + 1) }, undefined, { qemuVersion: c.diesOn });
    for (let i = 0; i < c.step; i++) {
      const [a, b] = [t.steps[i]!, rec.steps[i]!];
      if (isWaitStep(a) || isWaitStep(b)) continue;
      assert.is(a.result.ok, b.result.ok, `step ${i}: as recorded on ${c.recordedOn}`);
    }
    const last = t.steps[c.step]!;
    assert.ok(!isWaitStep(last) && !last.result.ok, 'refused');
    if (!isWaitStep(last) && !last.result.ok) assert.match(last.result.desc, c.abort);
    // the surviving version carries the step out (or refuses it) as its recording says
    const other = rec.steps[c.step]!;
    const u = await runOnModel({ ...s, steps: s.steps.slice(0, c.step + 1) }, undefined, { qemuVersion: c.recordedOn });
    const mine = u.steps[c.step]!;
    if (!isWaitStep(other) && !isWaitStep(mine)) assert.is(mine.result.ok, other.result.ok);
  });
}

test.run();
