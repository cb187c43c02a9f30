// -drive on the command line (the vm member's `drives`; commands/vm/cold-drives.ts, stop 42). The
// expected values are QEMU 7.2.22's, as oracle/transcripts/vm/vm-p-* recorded them, and the refusal
// qemu-system-x86_64 7.2.22 printed for an if=scsi drive on q35 (it exits before QMP is up).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { executeCommand, type ExecResult } from '../../commands/model.js';

type State = ExecResult['state'];
const ok = (r: ExecResult): State => { assert.ok(!('error' in r.reply), JSON.stringify(r.reply)); return r.state; };
function images(files: [string, string, string][]): State {
  let s: State = {};
  for (const [file, format, size] of files) s = ok(executeCommand(s, 'A', 'x-blockgraph-image-create', { file, format, size }));
  return s;
}
const machine = (s: State, vm: Record<string, unknown>) => executeCommand(s, 'A', 'x-blockgraph-machine', { version: 1, ...vm });
type BlockInfo = { device: string; qdev?: string; removable: boolean; 'io-status'?: string; inserted?: { ro: boolean; cache: { 'no-flush': boolean }; file: string } };
const queryBlock = (s: State) => (executeCommand(s, 'A', 'query-block', {}).reply as { return: BlockInfo[] }).return;
const hmp = (s: State, line: string) => (executeCommand(s, 'A', 'human-monitor-command', { 'command-line': line }).reply as { return: string }).return;

test('q35: one IDE unit a port (index=2 is ide2-hd0), media=cdrom, board devices at /machine/unattached/device[16..]; if=virtio an id-less virtio-blk-pci', () => {
  const s = ok(machine(images([['a.qcow2', 'qcow2', '1M'], ['b.raw', 'raw', '1M'], ['c.qcow2', 'qcow2', '1M']]),
    { drives: ['file=a.qcow2,if=virtio', 'file=b.raw,format=raw,index=2', 'file=c.qcow2,media=cdrom', 'if=ide,media=cdrom,index=3'] }));
  const qb = queryBlock(s);
  assert.equal(qb.map((b) => [b.device, b.qdev]), [
    ['virtio0', '/machine/peripheral-anon/device[0]/virtio-backend'],
    ['ide2-hd0', '/machine/unattached/device[17]'],
    ['ide0-cd0', '/machine/unattached/device[16]'],
    ['ide3-cd0', '/machine/unattached/device[18]'],
  ]);
  assert.is(qb[2]!.inserted!.ro, true);
  assert.is(qb[3]!.inserted, undefined);
  // drive_add after the command line: the same override_max_devs (q35: one unit a bus)
  assert.is(hmp(s, 'drive_add 0 if=ide,unit=1'), 'unit 1 too big (max is 0)\r\n');
});

test('pc: the floppies before the IDE devices on 7.2 (floppy0 device[13], IDE from device[18] after them)', () => {
  const s = ok(machine(images([['a.qcow2', 'qcow2', '1M'], ['f.raw', 'raw', '1440K']]),
    { machine: 'pc', drives: ['file=a.qcow2', 'media=cdrom', 'file=f.raw,if=floppy,format=raw'] }));
  assert.equal(queryBlock(s).map((b) => [b.device, b.qdev]), [
    ['ide0-hd0', '/machine/unattached/device[19]'],
    ['ide0-cd1', '/machine/unattached/device[20]'],
    ['floppy0', '/machine/unattached/device[13]'],
  ]);
});

test('drive_check_orphaned: if=scsi has no board to claim it on pc or q35 (QEMU exits with this text, at the -drive)', () => {
  // recorded from qemu-system-x86_64 7.2.22 and 10.0.2 (stop 43's start refusals: class `exit 1`, stderr)
  const r = machine(images([['a.raw', 'raw', '1M']]), { drives: ['file=a.raw,format=raw,if=scsi'] });
  assert.ok('error' in r.reply);
  const err = (r.reply as { error: { class: string; desc: string } }).error;
  assert.is(err.class, 'exit 1');
  assert.is(err.desc, 'qemu-system-x86_64: -drive file=a.raw,format=raw,if=scsi: machine type does not support if=scsi,bus=0,unit=0');
});

test('snapshot=on: a temporary qcow2 over the image (read-only backing), no-flush; drive_del leaves the device report/report', () => {
  let s = ok(machine(images([['a.qcow2', 'qcow2', '1M'], ['b.qcow2', 'qcow2', '1M']]),
    { drives: ['file=a.qcow2,if=virtio,snapshot=on', 'file=b.qcow2,if=virtio,werror=stop'] }));
  const [v0, v1] = queryBlock(s);
  assert.match(v0!.inserted!.file, /^json:\{"backing": \{"driver": "qcow2", "file": \{"driver": "file", "filename": "a\.qcow2"\}\}, "driver": "qcow2", "file": \{"driver": "file", "filename": "vl\.[0-9]{6}"\}\}$/);
  assert.is(v0!.inserted!.cache['no-flush'], true);
  assert.is(v1!['io-status'], 'ok');
  s = ok(executeCommand(s, 'A', 'human-monitor-command', { 'command-line': 'drive_del virtio1' }));
  const after = queryBlock(s)[1]!;
  assert.is(after.device, '');
  assert.is(after['io-status'], undefined);
});

test('ide_dev_initfn: an IDE disk on a read-only or empty drive stops QEMU (as vm-q-ide-hd-readonly-drive-q35 and vm-q-ide-hd-empty-drive-pc recorded it)', () => {
  const desc = (r: ExecResult) => { assert.ok('error' in r.reply); return (r.reply as { error: { desc: string } }).error.desc; };
  // blkconf_apply_backend_options asks for write before ide_init_drive's own checks: the perm
  // update refuses the read-only node; the board device's realize has no command-line location
  assert.is(desc(machine(images([['a.raw', 'raw', '1M']]), { drives: ['file=a.raw,format=raw,readonly=on'] })), 'qemu-system-x86_64: Block node is read-only');
  assert.is(desc(machine({}, { machine: 'pc', drives: ['if=ide,index=0'] })), 'qemu-system-x86_64: Device needs media, but drive is empty');
});

test.run();
