// Named BlockBackends (legacy drives) on the vm target (commands/vm/drive-add.ts,
// graph/named-blk.ts, commands/vm/block-info.ts; stop 40), and qbus_find_recursive's walk for a
// device without bus (commands/vm/device-add.ts defaultBus). The expected texts are QEMU 7.2.22's,
// as oracle/transcripts/vm/vm-l-hmp-drive-add*, vm-n-* and fuzz-vm-default-bus-depth-first
// recorded them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { executeCommand, type ExecResult } from '../../commands/model.js';

type State = ExecResult['state'];
const ok = (r: ExecResult): State => { assert.ok(!('error' in r.reply), JSON.stringify(r.reply)); return r.state; };
function machine(extra: Record<string, unknown> = {}): State {
  let s = ok(executeCommand({}, 'A', 'x-blockgraph-machine', { version: 1, 'root-ports': ['rp0'], 'scsi-controllers': [{ id: 'scsi0' }], ...extra }));
  for (const file of ['a.qcow2', 'b.qcow2', 'c.qcow2']) s = ok(executeCommand(s, 'A', 'x-blockgraph-image-create', { file, format: 'qcow2', size: '1M' }));
  return s;
}
const hmp = (s: State, line: string) => executeCommand(s, 'A', 'human-monitor-command', { 'command-line': line });
const text = (s: State, line: string): string => {
  const r = hmp(s, line);
  assert.ok('return' in r.reply, line);
  return (r.reply as { return: string }).return;
};
const graph = (s: State) => (executeCommand(s, 'A', 'x-debug-query-block-graph', {}).reply as {
  return: { nodes: { id: number; type: string; name: string }[]; edges: { parent: number; child: number; name: string }[] };
}).return;
const qmp = (s: State, cmd: string, args: Record<string, unknown>) => executeCommand(s, 'A', cmd, args);
const err = (r: ExecResult): string => { assert.ok('error' in r.reply, JSON.stringify(r.reply)); return (r.reply as { error: { desc: string } }).error.desc; };

test('drive_add: a named BlockBackend over an auto-named root (consistent-read, shares all); empty drives; errors printed without "Error: "', () => {
  const s0 = machine();
  const s = ok(hmp(s0, 'drive_add 0 if=none,file=a.qcow2,format=qcow2,id=d0'));
  assert.is(text(s0, 'drive_add 0 if=none,file=a.qcow2,format=qcow2,id=d0'), 'OK\r\n');
  const g = graph(s);
  const bb = g.nodes.find((n) => n.type === 'block-backend')!;
  assert.is(bb.name, 'd0');
  const root = g.nodes.find((n) => n.id === g.edges.find((e) => e.parent === bb.id)!.child)!;
  assert.match(root.name, /^#block\d+$/);
  assert.is(text(s, 'drive_add 0 if=none,file=b.qcow2,format=qcow2,id=d0'), "Duplicate ID 'd0' for drive\r\n");
  assert.is(text(s, 'drive_add 0 if=virtio,file=b.qcow2,format=qcow2,id=d5'), "Can't hot-add drive to type 7\r\n");
  assert.is(text(s, 'drive_add 0 file=b.qcow2,format=qcow2,id=d6'), "Can't hot-add drive to type 1\r\n");
  assert.is(text(s, 'drive_add 0 if=none,file=c.qcow2,format=qcow2,id=d2,cache=bogus'), 'invalid cache option\r\n');
  assert.is(text(s, 'drive_add 0 if=none,file=c.qcow2,format=qcow2,id=1bad'),
    "Parameter 'id' expects an identifier\r\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.\r\n");
  // the refused drives left nothing behind
  assert.is(graph(s).nodes.filter((n) => n.type === 'block-backend').length, 1);
  const e = ok(hmp(s, 'drive_add 0 if=none,id=d2'));
  assert.is(text(e, 'info block'), 'd0 (' + root.name + '): a.qcow2 (qcow2)\r\n    Removable device: not locked, tray closed\r\n    Cache mode:       writeback\r\n\r\n' +
    'd2: [not inserted]\r\n    Removable device: not locked, tray closed\r\n');
});

test('names: a drive id that is a node name and a node-name that is a drive', () => {
  let s = ok(qmp(machine(), 'blockdev-add', { driver: 'qcow2', 'node-name': 'n0', file: { driver: 'file', filename: 'a.qcow2' } }));
  assert.is(text(s, 'drive_add 0 if=none,file=b.qcow2,format=qcow2,id=n0'), "Device name 'n0' conflicts with an existing node name\r\n");
  s = ok(hmp(s, 'drive_add 0 if=none,file=b.qcow2,format=qcow2,id=d0'));
  assert.is(err(qmp(s, 'blockdev-add', { driver: 'qcow2', 'node-name': 'd0', file: { driver: 'file', filename: 'c.qcow2' } })), 'node-name=d0 is conflicting with a device id');
});

test('a device on a drive; drive_del while it holds it (anonymous, empty), device_del takes the drive; an unattached drive_del frees its nodes', () => {
  let s = ok(hmp(machine(), 'drive_add 0 if=none,file=a.qcow2,format=qcow2,id=d0'));
  s = ok(hmp(s, 'drive_add 0 if=none,file=b.qcow2,format=qcow2,id=d1'));
  s = ok(qmp(s, 'device_add', { driver: 'scsi-hd', id: 'sd0', drive: 'd0', bus: 'scsi0.0' }));
  assert.is(err(qmp(s, 'device_add', { driver: 'scsi-hd', id: 'sd1', drive: 'd0', bus: 'scsi0.0' })), "Drive 'd0' is already in use by another device");
  s = ok(hmp(s, 'drive_del d0'));
  const bbs = graph(s).nodes.filter((n) => n.type === 'block-backend');
  assert.equal(bbs.map((b) => b.name).sort(), ['d1', 'sd0']);
  assert.is(text(s, 'drive_del d0'), "Device 'd0' not found\r\n");
  s = ok(qmp(s, 'device_del', { id: 'sd0' }));
  s = ok(hmp(s, 'drive_del d1'));
  const g = graph(s);
  assert.is(g.nodes.length, 0);
});

test('jobs without job-id are named after the drive; op blockers name it (bdrv_get_device_or_node_name)', () => {
  let s = ok(hmp(machine(), 'drive_add 0 if=none,file=a.qcow2,format=qcow2,id=dx'));
  s = ok(qmp(s, 'drive-mirror', { device: 'dx', target: 'm.qcow2', format: 'qcow2', sync: 'full' }));
  const jobs = (qmp(s, 'query-block-jobs', {}).reply as { return: { device: string }[] }).return;
  assert.equal(jobs.map((j) => j.device), ['dx']);
  assert.is(text(s, 'drive_backup -f dx k2.qcow2 qcow2'), "Error: Node 'dx' is busy: block device is in use by block job: mirror\r\n");
  assert.is(text(s, 'drive_del dx'), "Node 'dx' is busy: block device is in use by block job: mirror\r\n");
});

test('x-debug-query-block-graph lists BlockBackends, then every node in its own loop (newest first after the reverse)', () => {
  let s = ok(hmp(machine(), 'drive_add 0 if=none,file=a.qcow2,format=qcow2,id=d0'));
  s = ok(qmp(s, 'blockdev-add', { driver: 'qcow2', 'node-name': 'n0', file: { driver: 'file', filename: 'b.qcow2' } }));
  const names = graph(s).nodes.map((n) => n.name);
  // xdbg_graph_add_node prepends: the newest node first, the BlockBackend last
  assert.is(names[names.length - 1], 'd0');
  assert.is(names[0], 'n0');
});

test('device_add without bus: qbus_find_recursive depth first, the -device controllers on pcie.0 before a hotplugged HBA under a root port', () => {
  let s = machine({ iothreads: ['io0'], 'scsi-controllers': [{ id: 'scsi0' }, { id: 'scsi1', iothread: 'io0' }] });
  s = ok(qmp(s, 'blockdev-add', { driver: 'qcow2', 'node-name': 'n5', 'read-only': true, file: { driver: 'file', filename: 'a.qcow2' } }));
  s = ok(qmp(s, 'device_add', { driver: 'lsi53c895a', id: 'hs1', bus: 'rp0' }));
  s = ok(qmp(s, 'device_add', { driver: 'scsi-hd', id: 'sd2', drive: 'n5' }));
  // on scsi1.0, the iothread controller: the node went to io0, and the lsi HBA refuses a second disk on it
  assert.is(err(qmp(s, 'device_add', { driver: 'scsi-cd', id: 'cd4', bus: 'hs1.0', drive: 'n5' })), 'HBA does not support iothreads');
});

test.run();
