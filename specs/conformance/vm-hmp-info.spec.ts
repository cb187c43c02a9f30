// HMP's block info printers and monitor_parse_arguments' messages on the vm target
// (commands/vm/hmp-info.ts, commands/vm/hmp.ts, commands/vm/hmp-qemu-io.ts; stop 39). The
// expected texts are QEMU 7.2.22's, as oracle/transcripts/vm/vm-l-* recorded them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { executeCommand, type ExecResult } from '../../commands/model.js';

type State = ExecResult['state'];
const ok = (r: ExecResult): State => { assert.ok(!('error' in r.reply), JSON.stringify(r.reply)); return r.state; };
function machine(): State {
  let s = ok(executeCommand({}, 'A', 'x-blockgraph-machine', { version: 1, 'scsi-controllers': [{ id: 'scsi0' }] }));
  for (const img of [{ file: 'b.qcow2', format: 'qcow2', size: '1M' }, { file: 'a.qcow2', format: 'qcow2', size: '1M', backing: 'b.qcow2', 'backing-format': 'qcow2' }]) {
    s = ok(executeCommand(s, 'A', 'x-blockgraph-image-create', img));
  }
  s = ok(executeCommand(s, 'A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'b', file: { driver: 'file', filename: 'b.qcow2' }, backing: null }));
  return ok(executeCommand(s, 'A', 'blockdev-add', { driver: 'qcow2', 'node-name': 'a', file: { driver: 'file', filename: 'a.qcow2' }, backing: 'b' }));
}
const hmp = (s: State, line: string) => executeCommand(s, 'A', 'human-monitor-command', { 'command-line': line });
const text = (s: State, line: string): string => {
  const r = hmp(s, line);
  assert.ok('return' in r.reply, line);
  return (r.reply as { return: string }).return;
};

test('info block: nothing without devices; a disk by node name with its chain; a node argument after the first gets a blank line', () => {
  const s = machine();
  assert.is(text(s, 'info block'), '');
  const d = ok(hmp(s, 'device_add scsi-hd,id=sd0,drive=a,bus=scsi0.0'));
  assert.is(text(d, 'info block'), 'a: a.qcow2 (qcow2)\r\n    Attached to:      sd0\r\n    Cache mode:       writeback\r\n    Backing file:     b.qcow2 (chain depth: 1)\r\n');
  // query-named-block-nodes is newest first: a (then its file) before b
  assert.is(text(d, 'info block b'), '\r\nb: b.qcow2 (qcow2)\r\n    Cache mode:       writeback\r\n');
  assert.is(text(d, 'info block sd0'), '');
  assert.is(text(d, 'info blockstats'), ': rd_bytes=0 wr_bytes=0 rd_operations=0 wr_operations=0 flush_operations=0 wr_total_time_ns=0 rd_total_time_ns=0 flush_total_time_ns=0 rd_merged=0 wr_merged=0 idle_time_ns=0\r\n');
  assert.is(text(d, 'info block-jobs'), 'No active jobs\r\n');
  assert.is(text(d, 'info snapshots'), 'There is no snapshot available.\r\n');
  assert.is(text(ok(executeCommand({}, 'A', 'x-blockgraph-machine', { version: 1 })), 'info snapshots'), 'no block device can store vmstate for snapshot\r\n');
});

test('monitor_parse_arguments: its messages and the Try-help line; unknown info items', () => {
  const s = machine();
  assert.is(text(s, 'block_resize a'), 'invalid size\r\nTry "help block_resize" for more information\r\n');
  assert.is(text(s, 'block_resize a 1x'), 'block_resize: extraneous characters at the end of line\r\nTry "help block_resize" for more information\r\n');
  assert.is(text(s, 'eject -f'), 'eject: block device name expected\r\nTry "help eject" for more information\r\n');
  assert.is(text(s, 'info block -x'), 'block: unsupported option -x\r\nTry "help info block" for more information\r\n');
  assert.is(text(s, 'block_set_io_throttle sd0 1 2'), 'unexpected end of expression\r\nTry "help block_set_io_throttle" for more information\r\n');
  assert.is(text(s, 'info jobs'), "unknown command: 'info jobs'\r\n");
  // HMP block_resize names a BlockBackend only (qmp_block_resize's device): a node is not found
  assert.is(text(s, 'block_resize a 2M'), "Error: Cannot find device='a' nor node-name=''\r\n");
});

test('qemu-io: a node gets a temporary BlockBackend that goes again; errors of the lookup and of the permission', () => {
  const s = machine();
  const w = ok(hmp(s, 'qemu-io a "write -q -P 0x5a 0 4k"'));
  assert.is((executeCommand(w, 'A', 'x-debug-query-block-graph', {}).reply as { return: { nodes: { type: string }[] } }).return.nodes.filter((n) => n.type === 'block-backend').length, 0);
  assert.is(text(s, 'qemu-io -d nosuch "read -q 0 512"'), "Error: Device 'nosuch' not found\r\n");
  assert.is(text(s, 'qemu-io nosuch "read -q 0 512"'), "Error: Cannot find device='' nor node-name='nosuch'\r\n");
  const d = ok(hmp(s, 'device_add scsi-hd,id=sd0,drive=a,bus=scsi0.0'));
  assert.match(text(d, 'qemu-io a "write -q 0 512"'), /^Permission conflict on node 'a': permissions 'write' are both required by an unnamed block device/);
  // qemu-io's own report (print_report's timing) is printf to QEMU's stdout, not the monitor: the
  // HMP reply of a read without -q is empty (vm/vm-r-pflash-qemu-io-info-pc)
  assert.is(text(s, 'qemu-io a "read 0 512"'), '');
});

test.run();
