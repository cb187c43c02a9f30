// Conformance of the vm target (issue 17): every transcript recorded on qemu-system-x86_64 7.2
// (oracle/transcripts/vm, `qmp record --target vm`) runs through the model and is scored apart
// from the qemu-storage-daemon set. Targets: 100% outcome, >= 98% error text and graph.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareTranscripts, type Tally } from '../../oracle/compare.js';
import { parseTranscript, scenarioOf } from '../../oracle/format.js';
import { runOnModel } from '../../oracle/run-model.js';
import { executeCommand } from '../../commands/model.js';

const DIR = new URL('../../oracle/transcripts/vm/', import.meta.url).pathname;
const pct = (n: number, d: number) => (d ? (100 * n) / d : 100);

test('vm target: conformance targets (outcome 100%, error text and graph >= 98%)', async () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 10, `vm transcripts in ${DIR}: ${files.length}`);
  const all: Tally = { steps: 0, outcome: 0, errorText: 0, graph: 0, events: 0 };
  const bad: string[] = [];
  for (const f of files) {
    const expected = parseTranscript(readFileSync(join(DIR, f), 'utf8'), f);
    assert.ok(expected.vm, `${f}: a vm transcript carries its machine`);
    const c = compareTranscripts(expected, await runOnModel(scenarioOf(expected)));
    for (const k of ['steps', 'outcome', 'errorText', 'graph', 'events'] as const) all[k] += c.totals[k];
    for (const s of c.steps) if (!s.outcome) bad.push(`${f} #${s.index} ${s.what}: ${s.diff.join(' | ')}`);
  }
  console.log(`vm: outcome ${pct(all.outcome, all.steps).toFixed(1)}% text ${pct(all.errorText, all.steps).toFixed(1)}% graph ${pct(all.graph, all.steps).toFixed(1)}% events ${pct(all.events, all.steps).toFixed(1)}% (${all.steps} steps, ${files.length} transcripts)`);
  assert.equal(bad, []);
  assert.ok(pct(all.errorText, all.steps) >= 98, 'error text >= 98%');
  assert.ok(pct(all.graph, all.steps) >= 98, 'graph >= 98%');
});

test('a qemu-storage-daemon process has no guest-device commands (CommandNotFound, as QSD 7.2)', () => {
  for (const cmd of ['device_add', 'device_del', 'eject', 'blockdev-change-medium', 'stop', 'cont', 'block_set_io_throttle', 'query-status']) {
    const r = executeCommand({}, 'A', cmd, { id: 'x' });
    assert.equal(r.reply, { error: { class: 'CommandNotFound', desc: `The command ${cmd} has not been found` } }, cmd);
  }
});

test('a vm process answers them once its machine exists; bad machines are refused whole', () => {
  const m = executeCommand({}, 'A', 'x-blockgraph-machine', { version: 1, 'scsi-controllers': [{ id: 's0' }] });
  assert.equal(m.reply, { return: {} });
  const r = executeCommand(m.state, 'A', 'device_del', { id: 'nosuch' });
  assert.equal(r.reply, { error: { class: 'DeviceNotFound', desc: "Device 'nosuch' not found" } });
  const again = executeCommand(m.state, 'A', 'x-blockgraph-machine', { version: 1 });
  assert.ok('error' in again.reply);
  const broken = executeCommand({}, 'A', 'x-blockgraph-machine', { version: 1, devices: [{ driver: 'scsi-hd', id: 'd', drive: 'nosuch' }] });
  assert.ok('error' in broken.reply);
  assert.equal(broken.state, {});
  for (const hostile of [null, 7, 'x', [], { driver: 5 }, { driver: 'scsi-hd', bus: {} }]) {
    const h = executeCommand(m.state, 'A', 'device_add', hostile as never);
    assert.ok('error' in h.reply, JSON.stringify(hostile));
  }
});

test("a pc machine without ACPI (libvirt's machine='pc', -no-acpi): pci.0 without hotplug, PIIX3's ide.0 and ide.1, no root ports (vm/vm-lv2-pc)", () => {
  const m = executeCommand({}, 'A', 'x-blockgraph-machine', { version: 1, machine: 'pc', acpi: false });
  assert.equal(m.reply, { return: {} });
  const pci = executeCommand(m.state, 'A', 'device_add', { driver: 'virtio-blk-pci', id: 'v', drive: 'nosuch' });
  assert.equal(pci.reply, { error: { class: 'GenericError', desc: "Bus 'pci.0' does not support hotplugging" } });
  // with ACPI (QEMU's default, -M pc) PIIX4_PM is pci.0's hotplug handler: the device is looked at
  const withAcpi = executeCommand({}, 'A', 'x-blockgraph-machine', { version: 1, machine: 'pc' });
  const pci2 = executeCommand(withAcpi.state, 'A', 'device_add', { driver: 'virtio-blk-pci', id: 'v', drive: 'nosuch' });
  assert.equal(pci2.reply, { error: { class: 'GenericError', desc: "Property 'virtio-blk-device.drive' can't find value 'nosuch'" } });
  for (const bad of [{ acpi: false }, { machine: 'pc', acpi: true }, { machine: 'q35', acpi: false }]) {
    assert.ok('error' in executeCommand({}, 'A', 'x-blockgraph-machine', { version: 1, ...bad }).reply, JSON.stringify(bad));
  }
  const cd = executeCommand(m.state, 'A', 'device_add', { driver: 'ide-cd', bus: 'ide.2', id: 'cd' });
  assert.equal(cd.reply, { error: { class: 'GenericError', desc: "Bus 'ide.2' not found" } });
  const rp = executeCommand({}, 'A', 'x-blockgraph-machine', { version: 1, machine: 'pc', 'root-ports': ['rp1'] });
  assert.ok('error' in rp.reply);
  const other = executeCommand({}, 'A', 'x-blockgraph-machine', { version: 1, machine: 'virt' });
  assert.ok('error' in other.reply);
});

test('cont on a running VM sends no event (vm_prepare_start: STOP + RESUME only for a pending vmstop request; vm/vm-c-stop-cont-jobs #16)', () => {
  const m = executeCommand({}, 'A', 'x-blockgraph-machine', { version: 1 });
  const c1 = executeCommand(m.state, 'A', 'cont', {});
  assert.equal(c1.events.map((e) => e.event), ['RESUME']);
  const c2 = executeCommand(c1.state, 'A', 'cont', {});
  assert.equal(c2.reply, { return: {} });
  assert.equal(c2.events, []);
  const s = executeCommand(c2.state, 'A', 'stop', {});
  assert.equal(s.events.map((e) => e.event), ['STOP']);
});

test('query-status follows the run state; 7.2\'s StatusInfo has singlestep, 10.0\'s not (qmp_query_status; vm/vm-e-stop-cont-devices-media)', () => {
  const m = executeCommand({}, 'A', 'x-blockgraph-machine', { version: 1 });
  assert.equal(executeCommand(m.state, 'A', 'query-status', {}).reply, { return: { running: false, singlestep: false, status: 'prelaunch' } });
  const c = executeCommand(m.state, 'A', 'cont', {});
  assert.equal(executeCommand(c.state, 'A', 'query-status', {}).reply, { return: { running: true, singlestep: false, status: 'running' } });
  const s = executeCommand(c.state, 'A', 'stop', {});
  assert.equal(executeCommand(s.state, 'A', 'query-status', {}).reply, { return: { running: false, singlestep: false, status: 'paused' } });
  const v = executeCommand({}, 'A', 'x-blockgraph-process-start', { qemu: '10.0' });
  const m10 = executeCommand(v.state, 'A', 'x-blockgraph-machine', { version: 1 });
  assert.equal(executeCommand(m10.state, 'A', 'query-status', {}).reply, { return: { running: false, status: 'prelaunch' } });
  assert.equal(executeCommand(m10.state, 'A', 'query-status', { x: 1 }).reply, { error: { class: 'GenericError', desc: "Parameter 'x' is unexpected" } });
});

test.run();
