// What query-block, query-blockstats and query-block-jobs say about guest devices (stop 41):
// blk_iostatus_is_enabled, a BlockBackend's accounting (blockdev_init's stats options, the latency
// histograms), bdrv_query_info's skipped implicit filters, a pending mirror's pause count. The
// expected values are QEMU 7.2.22's, as oracle/transcripts/vm/vm-o-* recorded them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { executeCommand, type ExecResult } from '../../commands/model.js';

type State = ExecResult['state'];
const ok = (r: ExecResult): State => { assert.ok(!('error' in r.reply), JSON.stringify(r.reply)); return r.state; };
const run = (s: State, cmd: string, args: Record<string, unknown> = {}) => ok(executeCommand(s, 'A', cmd, args));
const ret = <T>(s: State, cmd: string, args: Record<string, unknown> = {}): T => {
  const r = executeCommand(s, 'A', cmd, args);
  assert.ok('return' in r.reply, JSON.stringify(r.reply));
  return (r.reply as { return: T }).return;
};
const hmp = (s: State, line: string) => executeCommand(s, 'A', 'human-monitor-command', { 'command-line': line });
const qcow2 = (name: string) => ({ driver: 'qcow2', 'node-name': name, file: { driver: 'file', filename: `${name}.qcow2` } });

function machine(files: string[]): State {
  let s = run({}, 'x-blockgraph-machine', { version: 1, 'root-ports': ['rp0', 'rp1', 'rp2'], 'scsi-controllers': [{ id: 'scsi0' }] });
  for (const f of files) s = run(s, 'x-blockgraph-image-create', { file: `${f}.qcow2`, format: 'qcow2', size: '1M' });
  return s;
}

type Info = { device: string; qdev?: string; 'io-status'?: string; inserted?: { 'node-name': string; drv: string } };

test('io-status: only where the device enabled it and an error action can stop the VM (blk_iostatus_is_enabled)', () => {
  let s = machine(['a', 'b', 'c', 'd']);
  for (const n of ['a', 'b', 'c', 'd']) s = run(s, 'blockdev-add', qcow2(n));
  s = run(s, 'device_add', { driver: 'virtio-blk-pci', id: 'vd0', drive: 'a', bus: 'rp0' });
  s = run(s, 'device_add', { driver: 'scsi-hd', id: 'sd0', drive: 'b', bus: 'scsi0.0', werror: 'report', rerror: 'report' });
  s = run(s, 'device_add', { driver: 'scsi-hd', id: 'sd1', drive: 'c', bus: 'scsi0.0', werror: 'ignore', rerror: 'stop' });
  s = run(s, 'device_add', { driver: 'nvme', id: 'nv0', drive: 'd', bus: 'rp1', serial: 's' });
  const q = ret<Info[]>(s, 'query-block');
  const by = (qdev: string) => q.find((b) => b.qdev === qdev)!;
  // blk_new's werror=enospc
  assert.is(by('/machine/peripheral/vd0/virtio-backend')['io-status'], 'ok');
  assert.not.ok('io-status' in by('sd0'));
  assert.is(by('sd1')['io-status'], 'ok');
  // nvme never calls blk_iostatus_enable
  assert.not.ok('io-status' in by('nv0'));
});

test('io-status of a legacy drive: none without a device; a device with auto keeps the drive\'s werror/rerror', () => {
  let s = machine([]);
  s = run(s, 'x-blockgraph-image-create', { file: 'a.qcow2', format: 'qcow2', size: '1M' });
  s = ok(hmp(s, 'drive_add 0 if=none,id=d0,file=a.qcow2,format=qcow2,werror=report,rerror=report'));
  assert.not.ok('io-status' in ret<Info[]>(s, 'query-block')[0]!);
  s = run(s, 'device_add', { driver: 'scsi-hd', id: 'sd0', drive: 'd0', bus: 'scsi0.0' });
  assert.not.ok('io-status' in ret<Info[]>(s, 'query-block')[0]!);
});

type Stats = { device?: string; stats: Record<string, unknown> };

test('query-blockstats: a drive\'s stats-intervals and stats-account-* (blockdev_init), latency histograms kept, replaced per kind, cleared', () => {
  let s = machine(['a', 'b']);
  s = ok(hmp(s, 'drive_add 0 if=none,id=d0,file=b.qcow2,format=qcow2,stats-intervals.0=60,stats-intervals.1=3600,stats-account-invalid=off'));
  let st = ret<Stats[]>(s, 'query-blockstats')[0]!.stats;
  assert.equal((st.timed_stats as { interval_length: number }[]).map((t) => t.interval_length), [60, 3600]);
  assert.is(st.account_invalid, false);
  assert.is(st.account_failed, true);
  // parse_stats_intervals' refusal (the drive is not added)
  const bad = hmp(s, 'drive_add 0 if=none,id=d1,file=a.qcow2,format=qcow2,stats-intervals.0=0');
  assert.is((bad.reply as { return: string }).return, 'Invalid interval length: 0\r\n');
  s = run(s, 'blockdev-add', qcow2('a'));
  s = run(s, 'device_add', { driver: 'scsi-hd', id: 'sd0', drive: 'a', bus: 'scsi0.0' });
  const sd0 = (x: State) => ret<(Stats & { qdev?: string })[]>(x, 'query-blockstats').find((e) => e.qdev === 'sd0')!.stats;
  assert.not.ok('rd_latency_histogram' in sd0(s));
  s = run(s, 'block-latency-histogram-set', { id: 'sd0', boundaries: [10, 1000] });
  s = run(s, 'block-latency-histogram-set', { id: 'sd0', 'boundaries-write': [50] });
  st = sd0(s);
  assert.equal(st.rd_latency_histogram, { boundaries: [10, 1000], bins: [0, 0, 0] });
  assert.equal(st.wr_latency_histogram, { boundaries: [50], bins: [0, 0] });
  assert.equal(st.flush_latency_histogram, { boundaries: [10, 1000], bins: [0, 0, 0] });
  s = run(s, 'block-latency-histogram-set', { id: 'sd0' });
  assert.not.ok('wr_latency_histogram' in sd0(s));
});

test('query-block and info block skip a job\'s implicit filter (bdrv_query_info); a pending mirror is paused (mirror_run\'s drain)', () => {
  let s = machine(['a', 't']);
  s = run(s, 'blockdev-add', qcow2('a'));
  s = run(s, 'blockdev-add', qcow2('t'));
  s = run(s, 'device_add', { driver: 'scsi-hd', id: 'sd0', drive: 'a', bus: 'scsi0.0' });
  s = run(s, 'blockdev-mirror', { 'job-id': 'm0', device: 'a', target: 't', sync: 'full', 'auto-finalize': false });
  const ins = ret<Info[]>(s, 'query-block')[0]!.inserted!;
  assert.is(ins['node-name'], 'a');
  assert.is(ins.drv, 'qcow2');
  assert.match((hmp(s, 'info block').reply as { return: string }).return, /^a: a\.qcow2 \(qcow2\)\r\n/);
  s = run(s, 'x-blockgraph-job-advance', { id: 'm0', status: 'ready' });
  s = run(s, 'job-complete', { id: 'm0' });
  s = run(s, 'x-blockgraph-job-advance', { id: 'm0', status: 'pending' });
  const j = ret<{ status: string; paused: boolean; ready: boolean }[]>(s, 'query-block-jobs')[0]!;
  assert.equal([j.status, j.paused, j.ready], ['pending', true, false]);
});

test.run();
