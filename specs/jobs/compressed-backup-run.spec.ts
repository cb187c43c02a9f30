// A backup with `compress` writes its clusters one by one (qcow2_co_pwritev_compressed_task per
// block-copy cluster). The model writes a run of them on one copy of the target's metadata
// (graph/snapshot-clusters.ts compressedWriter, graph/jobs/backup.ts blockCopyCall): the run
// must leave the same image as cluster-by-cluster writes, and a 1 GiB compressed backup (16,384
// clusters; fuzz 522514549, where a copy per cluster ran the fuzzer out of heap) must finish.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compressedWriter } from '../../graph/snapshot-clusters.js';
import type { Image } from '../../graph/types.js';
import { isWaitStep, type Scenario, type Step } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';

const CS = 65536;

test('a run of compressed clusters on one writer leaves the image cluster-by-cluster writes leave', () => {
  // held data at cluster 3, a region boundary crossed (an L2 table covers 512 MiB at 64 KiB clusters)
  const base: Image = { file: 't.qcow2', format: 'qcow2', size: 1 << 30, clusterSize: CS, data: [[3 * CS, 4 * CS]] };
  const writes: [number, number][] = [];
  for (let c = 0; c < 40; c++) if (c !== 3) writes.push([c * CS, 100 + ((c * 977) % 30000)]);
  for (let c = 8190; c < 8196; c++) writes.push([c * CS, 40000]);
  let one = base;
  let endOne = 0;
  for (const [off, size] of writes) {
    const w = compressedWriter(one, 'p:1');
    w.write(off, size);
    one = w.img();
    endOne = Math.max(endOne, w.end());
  }
  const run = compressedWriter(base, 'p:1');
  for (const [off, size] of writes) run.write(off, size);
  assert.equal(run.img(), one);
  assert.is(run.end(), endOne);
  assert.ok(Object.keys(one.snapClusters?.compressed ?? {}).length === writes.length);
  assert.equal(base.snapClusters, undefined, 'the writer copies, never changes its input');
});

test('a 1 GiB compressed blockdev-backup runs to its end in its start step', async () => {
  const sc: Scenario = {
    name: 'compressed-1g', description: 'x', covers: ['backup'],
    images: [{ file: 's.img', format: 'raw', size: '1G', data: [{ offset: 0, length: 1048576, pattern: 1 }] }, { file: 't.qcow2', format: 'qcow2', size: '1G' }],
    steps: [
      { execute: 'blockdev-add', arguments: { driver: 'raw', 'node-name': 's', file: { driver: 'file', filename: 's.img' } } },
      { execute: 'blockdev-add', arguments: { driver: 'qcow2', 'node-name': 't', file: { driver: 'file', filename: 't.qcow2' } } },
      { execute: 'blockdev-backup', arguments: { 'job-id': 'b', device: 's', target: 't', sync: 'full', compress: true } },
    ] as Step[],
  } as Scenario;
  const t = await runOnModel(sc, undefined, { qemuVersion: '7.2' });
  const start = t.steps[2]!;
  assert.ok(!isWaitStep(start) && start.result.ok);
  const done = start.events.find((e) => e.event === 'BLOCK_JOB_COMPLETED');
  assert.ok(done, JSON.stringify(start.events.map((e) => e.event)));
  assert.is(done!.data?.error, undefined, JSON.stringify(done!.data));
});

test('a 1 GiB compressed drive-backup (its target detects zeroes) of a quorum runs to its end', async () => {
  // fuzz 522514549's shape: quorum has no block status (every cluster data), and drive-backup opens
  // its target with detect-zeroes=unmap (drive_backup_prepare), which a cluster of unknown bytes passes
  const sc: Scenario = {
    name: 'compressed-1g-drive', description: 'x', covers: ['backup'], images: [],
    steps: [
      { execute: 'blockdev-add', arguments: { driver: 'quorum', 'node-name': 'x', children: [{ driver: 'null-co', 'node-name': 'q', size: 1 << 30 }], 'vote-threshold': 1 } },
      { execute: 'drive-backup', arguments: { 'job-id': 'd', device: 'x', sync: 'full', mode: 'absolute-paths', target: 'a.qcow2', format: 'qcow2', compress: true } },
    ] as Step[],
  } as Scenario;
  const t = await runOnModel(sc, undefined, { qemuVersion: '7.2' });
  const start = t.steps[1]!;
  assert.ok(!isWaitStep(start) && start.result.ok, JSON.stringify(start));
  const done = start.events.find((e) => e.event === 'BLOCK_JOB_COMPLETED');
  assert.ok(done, JSON.stringify(start.events.map((e) => e.event)));
  assert.is(done!.data?.error, undefined, JSON.stringify(done!.data));
});

test.run();
