// Stop 42: the vm grammar's legacy drives and HMP block commands (oracle/fuzz/grammar-vm-hmp.ts).
// Each HMP line is judged by the crash guards and tracked by the fuzzer's World as the QMP
// command it runs (oracle/fuzz/hmp-equivalent.ts); the generator, driven here over the model's
// answers (no QEMU), opens drives and sends the commands that take a drive's name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isWaitStep, type NormGraph, type Scenario, type Step } from '../../oracle/format.js';
import { FUZZ_IMAGES, Rng, World } from '../../oracle/fuzz/index.js';
import { FUZZ_VM, VmGenerator } from '../../oracle/fuzz/grammar-vm.js';
import { caseSeed } from '../../oracle/fuzz/rng.js';
import { hmpEquivalent, rootOf } from '../../oracle/fuzz/hmp-equivalent.js';
import { knownAbort } from '../../oracle/fuzz/aborts.js';
import { modelRecorder } from '../../oracle/run-model.js';

const drive = (name: string, root: string): NormGraph => ({
  nodes: [{ name: root, driver: 'qcow2', ro: false }],
  parents: [{ name: `dev:${name}`, type: 'block-backend' }],
  edges: [{ parent: `dev:${name}`, name: 'root', child: root, perm: [], shared: [] }],
});
const hmp = (line: string): Step => ({ execute: 'human-monitor-command', arguments: { 'command-line': line } });

test('an HMP line is the QMP command it runs, a drive named by its root node where QMP takes a node', () => {
  const g = drive('dr0', '#block1');
  assert.is(rootOf(g, 'dr0'), '#block1');
  assert.is(rootOf(g, 'n5'), 'n5');
  assert.equal(hmpEquivalent(hmp('block_stream dr0 1b'), g), { execute: 'block-stream', arguments: { 'job-id': 'dr0', device: '#block1', speed: 1 } });
  assert.equal(hmpEquivalent(hmp('block_resize dr0 32M'), g), { execute: 'block_resize', arguments: { 'node-name': '#block1', size: 33554432 } });
  assert.equal(hmpEquivalent(hmp('block_job_cancel -f dr0'), g), { execute: 'block-job-cancel', arguments: { device: 'dr0', force: true } });
  assert.equal(hmpEquivalent(hmp('snapshot_blkdev_internal dr0 snap3'), g), { execute: 'blockdev-snapshot-internal-sync', arguments: { device: 'dr0', name: 'snap3' } });
  // drive_del of a node is blockdev-del's; of a drive, none (monitor_remove_blk, the drive's own path)
  assert.equal(hmpEquivalent(hmp('drive_del #block1'), g), { execute: 'blockdev-del', arguments: { 'node-name': '#block1' } });
  assert.is(hmpEquivalent(hmp('drive_del dr0'), g), undefined);
  assert.is(hmpEquivalent(hmp('info block'), g), undefined);
  assert.is(hmpEquivalent({ execute: 'block-stream', arguments: { device: 'dr0' } }, g), undefined);
});

test('the World tracks an HMP stream as the job it is; the crash guards see the HMP line as its QMP command', () => {
  const w = new World();
  const g = drive('dr0', 'n0');
  // (the drive's name is read over the graph before the step)
  w.proc('A').graph = g;
  const st = { execute: "human-monitor-command", arguments: { "command-line": "block_stream dr0 1b" } };
  w.observe(st, { proc: 'A', execute: 'human-monitor-command', arguments: st.arguments, result: { ok: true, return: '' }, events: [], graph: g });
  const j = w.proc('A').jobs.get('dr0');
  assert.equal(j && { kind: j.kind, device: j.device, status: j.status }, { kind: 'stream', device: 'n0', status: 'running' });
  // a refused line (printed "Error: …") tracks nothing
  const w2 = new World();
  w2.observe(st, { proc: 'A', execute: 'human-monitor-command', arguments: st.arguments, result: { ok: true, return: "Error: Device 'dr0' has no medium\r\n" }, events: [], graph: g });
  assert.is(w2.proc('A').jobs.size, 0);
  // a device_add of a disk on a drive whose root is a completed mirror's held-drained source:
  // avoided as on the node itself (fuzz 1471005996, 1713296165)
  const p = w.proc('A');
  p.graph = drive('dr1', 'n9');
  p.jobs.set('j8', { id: 'j8', kind: 'mirror', status: 'pending', device: 'n9' });
  for (const driver of ['scsi-hd', 'usb-storage']) {
    assert.match(knownAbort({ execute: 'device_add', arguments: { driver, id: 'd', drive: 'dr1' } }, p) ?? '', /^fuzz 1471005996:/, driver);
  }
  assert.is(knownAbort({ execute: 'device_add', arguments: { driver: 'scsi-cd', id: 'd', drive: 'dr1' } }, p), undefined);
});

test('over the model, the vm generator opens drives and sends the HMP commands that take their names', async () => {
  const sent = new Map<string, number>();
  let done = 0;
  for (let c = 0; c < 100; c++) {
    const s = caseSeed(42, c);
    const world = new World();
    const gen = new VmGenerator(new Rng(s), world, '7.2');
    const scenario: Scenario = { name: `hmp-${s}`, description: '', covers: ['fuzz'], images: FUZZ_IMAGES.map((i) => ({ ...i })), vm: FUZZ_VM, 'hmp-text': true, replies: true, steps: [] };
    const model = await modelRecorder(scenario, undefined, { qemuVersion: '7.2', replies: true, hmpText: true });
    for (let i = 0, n = 0; n < 25; i++) {
      const step = gen.next();
      if (!step) break;
      if (!isWaitStep(step)) n++;
      const out = await model.record(i, step);
      world.observe(step, out);
      gen.followUp(step, isWaitStep(out) || out.result.ok);
      if (isWaitStep(step) || isWaitStep(out) || step.execute !== 'human-monitor-command' || !out.result.ok) continue;
      const name = String(step.arguments?.['command-line']).split(' ')[0]!;
      if (name === 'info') continue;
      sent.set(name, (sent.get(name) ?? 0) + 1);
      // what it printed: OK (drive_add), nothing (done), or an error
      if (out.result.return === '' || out.result.return === 'OK\r\n') done++;
    }
    await model.close();
  }
  for (const name of ['drive_add', 'block_resize', 'drive_del', 'qemu-io', 'block_stream', 'commit', 'change', 'snapshot_blkdev_internal', 'eject']) {
    assert.ok((sent.get(name) ?? 0) > 0, `${name} sent: ${JSON.stringify([...sent])}`);
  }
  // most of them carried out (a drive is there to take them)
  assert.ok(done > 30, `${done} HMP lines carried out`);
});

test.run();
