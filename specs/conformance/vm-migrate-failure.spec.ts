// Stop 39 (wt-vm21, the eleventh VM set; recorded proofs: oracle/transcripts/vm/vm-m-*): what a
// migration that fails in its completion leaves, an nvme's unmigratable state, system_reset's
// trays and change-medium's inherited BDRV_O_INACTIVE, each checked on the model's own answers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { executeCommand, type ExecResult } from '../../commands/model.js';

type State = ExecResult['state'];
const run = (s: State, cmd: string, args: Record<string, unknown> = {}) => executeCommand(s, 'A', cmd, args);
const ok = (s: State, cmd: string, args: Record<string, unknown> = {}): State => {
  const r = run(s, cmd, args);
  assert.equal(r.reply, { return: {} }, `${cmd} ${JSON.stringify(args)}`);
  return r.state;
};
const status = (s: State) => (run(s, 'query-status').reply as { return: { status: string } }).return.status;
const edges = (s: State) => (run(s, 'x-debug-query-block-graph').reply as { return: { nodes: { id: number; name: string }[]; edges: { parent: number; child: number; perm: string[] }[] } }).return;
/** The perms every edge below `node` asks of its child, by the child's name. */
const permsOf = (s: State, child: string): string[][] => {
  const g = edges(s);
  const id = g.nodes.find((n) => n.name === child)!.id;
  return g.edges.filter((e) => e.child === id).map((e) => [...e.perm].sort());
};

/** A machine with a disk on `a` and a writable NBD export of `b` (a BlockBackend without a device that writes). */
function machine(qemu: '7.2' | '10.0'): State {
  let s: State = {};
  if (qemu === '10.0') s = run(s, 'x-blockgraph-process-start', { qemu: '10.0' }).state;
  s = ok(s, 'x-blockgraph-machine', { version: 1, 'scsi-controllers': [{ id: 'scsi0' }] });
  for (const f of ['a', 'b']) {
    s = ok(s, 'x-blockgraph-image-create', { file: `${f}.qcow2`, format: 'qcow2', size: '1M' });
    s = ok(s, 'blockdev-add', { driver: 'qcow2', 'node-name': f, file: { driver: 'file', filename: `${f}.qcow2` } });
  }
  s = ok(s, 'device_add', { driver: 'scsi-hd', id: 'sd0', drive: 'a', bus: 'scsi0.0' });
  s = ok(s, 'nbd-server-start', { addr: { type: 'unix', data: { path: 'nbd.sock' } } });
  return ok(s, 'block-export-add', { type: 'nbd', id: 'eb', writable: true, 'node-name': 'b' });
}
const MIGRATE = { uri: 'exec:cat > /dev/null' };

for (const qemu of ['7.2', '10.0'] as const) {
  test(`${qemu}: a migration refused by a writing export takes every image back (the disk keeps its write)`, () => {
    const before = machine(qemu);
    const s = ok(before, 'migrate', MIGRATE);
    assert.equal(permsOf(s, 'a'), permsOf(before, 'a'));
    assert.ok(permsOf(s, 'a').some((p) => p.includes('write')), 'the disk still writes a');
  });
}

test('the run state after it: 7.2 postmigrate (a second migrate refused), 10.0 the old one (a second migrate runs)', () => {
  const s72 = ok(machine('7.2'), 'migrate', MIGRATE);
  assert.is(status(s72), 'postmigrate');
  assert.equal(run(s72, 'migrate', MIGRATE).reply, { error: { class: 'GenericError', desc: "Can't migrate the vm that was paused due to previous migration" } });
  const s10 = ok(machine('10.0'), 'migrate', MIGRATE);
  assert.is(status(s10), 'prelaunch');
  assert.equal(run(s10, 'migrate', MIGRATE).reply, { return: {} });
  // without the export the migration completes: postmigrate on both
  assert.is(status(ok(ok(machine('10.0'), 'block-export-del', { id: 'eb' }), 'migrate', MIGRATE)), 'postmigrate');
});

test('an nvme blocks migrate with its vmstate idstr; without it the migration runs', () => {
  let s = ok({}, 'x-blockgraph-machine', { version: 1, 'root-ports': ['rp0', 'rp1'] });
  s = ok(s, 'x-blockgraph-image-create', { file: 'n.qcow2', format: 'qcow2', size: '1M' });
  s = ok(s, 'blockdev-add', { driver: 'qcow2', 'node-name': 'n', file: { driver: 'file', filename: 'n.qcow2' } });
  const nv = ok(s, 'device_add', { driver: 'nvme', id: 'nv0', drive: 'n', bus: 'rp1', serial: 'x' });
  assert.equal(run(nv, 'migrate', MIGRATE).reply, { error: { class: 'GenericError', desc: "State blocked by non-migratable device '0000:00:02.0:00.0/nvme'" } });
  assert.is(status(ok(ok(nv, 'device_del', { id: 'nv0' }), 'migrate', MIGRATE)), 'postmigrate');
});

test('system_reset closes open trays without DEVICE_TRAY_MOVED', () => {
  let s = ok({}, 'x-blockgraph-machine', { version: 1, 'scsi-controllers': [{ id: 'scsi0' }] });
  s = ok(s, 'device_add', { driver: 'scsi-cd', id: 'cd0', bus: 'scsi0.0' });
  s = ok(s, 'blockdev-open-tray', { id: 'cd0' });
  const r = run(s, 'system_reset');
  assert.equal(r.events.map((e) => e.event), ['RESET']);
  // the tray is closed: inserting is refused, closing it moves nothing
  assert.ok('error' in run(r.state, 'blockdev-insert-medium', { id: 'cd0', 'node-name': 'x' }).reply);
  assert.equal(run(r.state, 'blockdev-close-tray', { id: 'cd0' }).events, []);
  assert.equal(run(s, 'blockdev-close-tray', { id: 'cd0' }).events.map((e) => e.event), ['DEVICE_TRAY_MOVED']);
});

test('change-medium after a migration opens the new medium inactive (the root state keeps BDRV_O_INACTIVE)', () => {
  for (const qemu of ['7.2', '10.0'] as const) {
    let s: State = {};
    if (qemu === '10.0') s = run(s, 'x-blockgraph-process-start', { qemu: '10.0' }).state;
    s = ok(s, 'x-blockgraph-machine', { version: 1, 'scsi-controllers': [{ id: 'scsi0' }] });
    for (const f of ['m1', 'm2']) s = ok(s, 'x-blockgraph-image-create', { file: `${f}.raw`, format: 'raw', size: '1M' });
    s = ok(s, 'blockdev-add', { driver: 'raw', 'node-name': 'm1', 'read-only': true, file: { driver: 'file', filename: 'm1.raw' } });
    s = ok(s, 'device_add', { driver: 'scsi-cd', id: 'cd0', drive: 'm1', bus: 'scsi0.0' });
    s = ok(s, 'migrate', MIGRATE);
    s = ok(s, 'blockdev-change-medium', { id: 'cd0', filename: 'm2.raw', format: 'raw' });
    const nodes = (run(s, 'query-named-block-nodes').reply as { return: { 'node-name': string; file: string; active?: boolean }[] }).return;
    const medium = nodes.find((n) => n.file.endsWith('m2.raw') && !n['node-name'].endsWith('file'));
    assert.ok(medium, qemu);
    // 10.0's blk_insert_bs leaves the device's BlockBackend without perms on it; 7.2's gives them
    const reads = permsOf(s, medium!['node-name']).some((p) => p.includes('consistent-read'));
    assert.is(reads, qemu === '7.2', qemu);
  }
});

test.run();
