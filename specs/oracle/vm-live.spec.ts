// The vm target's recorder (issue 17): re-records the vm transcripts on qemu-system-x86_64 and
// requires byte identity; plus the `vm` member's parsing, printing and refusals.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseScenario, parseTranscript, printTranscript, scenarioOf } from '../../oracle/index.js';
import { createImagesWithQemuImg } from '../../oracle/qsd.js';
import { spawnVm, vmArgs, vmAvailable, vmUnavailableReason } from '../../oracle/qemu-vm.js';
import { VmStartRefused } from '../../oracle/start-refused.js';
import { findQemuBinaries } from '../../oracle/qemu-bins.js';
import { createModelImages, createModelMachine, declareVersion } from '../../oracle/run-model.js';
import { MemoryBackend, ModelConnection } from '../../commands/model-host.js';
import { rerecord } from './rerecord.js';
import { liveAll, liveSelection, liveWidth, prefetching } from './live-set.js';
import { recordQomClasses } from '../../oracle/qom-classes.js';
import { QOM_CLASSES } from '../../graph/devices/qom-classes.js';

const DIR = resolve('oracle/transcripts/vm');
const DIR_10 = resolve('oracle/transcripts/qemu-10.0/vm');
const base = { name: 'n', description: 'd', covers: ['vm-devices'], images: [], steps: [] };
const badInput = (f: () => unknown, re: RegExp) => {
  try { f(); assert.unreachable('accepted'); } catch (e) {
    assert.is((e as { code?: string }).code, 'BG_BAD_INPUT');
    assert.match((e as Error).message, re);
  }
};

test('the vm member: versioned, validated, kept by scenarioOf and printed after images', () => {
  const vm = { version: 1, iothreads: ['io0'], 'root-ports': ['rp0'], 'scsi-controllers': [{ id: 's0', iothread: 'io0' }], blockdevs: [{ driver: 'null-co', 'node-name': 'n' }], devices: [{ driver: 'scsi-hd', id: 'd', drive: 'n', bus: 's0.0' }] };
  const s = parseScenario({ ...base, vm });
  assert.equal(s.vm, vm);
  const t = parseTranscript({ format: 'blockgraph-oracle/1', qemu: 'x', ...base, vm });
  assert.equal(scenarioOf(t).vm, vm);
  const text = printTranscript(t);
  assert.ok(text.indexOf('"vm"') > text.indexOf('"images"') && text.indexOf('"vm"') < text.indexOf('"steps"'));
  assert.equal(parseTranscript(text).vm, vm);
  // a QSD transcript prints without it
  assert.not.match(printTranscript(parseTranscript({ format: 'blockgraph-oracle/1', qemu: 'x', ...base })), /"vm"/);
  badInput(() => parseScenario({ ...base, vm: { version: 2 } }), /version/);
  badInput(() => parseScenario({ ...base, vm: { version: 1, iothreads: ['io 0'] } }), /iothreads/);
  badInput(() => parseScenario({ ...base, vm: { version: 1, 'root-ports': ['rp0,bus=x'] } }), /root-ports/);
  badInput(() => parseScenario({ ...base, vm: { version: 1, 'scsi-controllers': [{ id: 's', nosuch: 1 }] } }), /nosuch/);
  badInput(() => parseScenario({ ...base, vm: { version: 1, devices: [{ id: 'x' }] } }), /driver/);
  badInput(() => parseScenario({ ...base, vm: { version: 1, extra: 1 } }), /extra/);
  badInput(() => parseScenario({ ...base, vm: [] }), /object/);
});

test('the machine on the command line: ids as given, objects as JSON', () => {
  assert.equal(vmArgs({ version: 1, iothreads: ['io0'], 'root-ports': ['rp0', 'rp1'], 'scsi-controllers': [{ id: 's0', iothread: 'io0' }] }), [
    '-object', 'iothread,id=io0',
    '-device', 'pcie-root-port,id=rp0,bus=pcie.0,chassis=1',
    '-device', 'pcie-root-port,id=rp1,bus=pcie.0,chassis=2',
    '-device', '{"driver":"virtio-scsi-pci","id":"s0","bus":"pcie.0","iothread":"io0"}',
  ]);
});

if (!vmAvailable()) {
  console.log('skipped: qemu-system-x86_64 not installed (apt-get install -y qemu-system-x86)');
  test('vm live re-recording (skipped: qemu-system-x86_64 not installed)', () => undefined);
} else {
  test('a machine QEMU refuses ends the recording with its reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-vm-'));
    try {
      await spawnVm(dir, { version: 1, devices: [{ driver: 'scsi-hd', id: 'x', drive: 'nosuch' }] });
      assert.unreachable('started');
    } catch (e) {
      // a refusal before QMP answers is the recorder's VmStartRefused (oracle/start-refused.ts):
      // QEMU's exit status and its stderr, which a scenario records as its first step
      assert.instance(e, VmStartRefused);
      assert.is((e as VmStartRefused).exitCode, 1);
      assert.match((e as VmStartRefused).stderr, /nosuch|Bus|drive/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  rerecordsAll(DIR, '7.2');
  test("query-block's qdev, removable and tray_open, and query-blockstats, on libvirt's machine are QEMU's (blk_get_attached_dev_id: the id, else the QOM path)", async () => {
    // libvirt maps its disks by qdev (a CD-ROM's tray: with a wrong qdev it sends no
    // blockdev-open-tray and QEMU refuses the eject; docs/vm.md "libvirt driving blockgraph")
    const scenario = scenarioOf(parseTranscript(readFileSync(join(DIR, 'vm-lv2-sata.json'), 'utf8')));
    scenario.steps = [{ execute: 'query-block' }];
    const tmp = mkdtempSync(join(tmpdir(), 'bg-vm-'));
    const view = (r: unknown) => ((r as { return: Record<string, unknown>[] }).return)
      .map((b) => [b.qdev, b.removable, b.tray_open, b.device, b.type]);
    try {
      await createImagesWithQemuImg(scenario, tmp);
      const conn = await spawnVm(tmp, scenario.vm!);
      let live: unknown, liveStats: unknown;
      try {
        live = await conn.execute('query-block');
        liveStats = await conn.execute('query-blockstats');
      } finally { await conn.close(); }
      const backend = new MemoryBackend();
      await createModelImages(backend, scenario);
      await createModelMachine(backend, scenario);
      const model = await new ModelConnection(backend, 'A').execute('query-block');
      assert.equal(view(model), view(live));
      // a paused VM without a guest does no I/O: every counter is 0 on both sides (libvirt's
      // domblkinfo and domblkstat find the disk here by qdev)
      assert.equal(await new ModelConnection(backend, 'A').execute('query-blockstats'), liveStats);
      assert.ok(view(live).some(([q]) => q === 'sata0-0-1'));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
  for (const t of ['vm-lv2-iothreads.json', 'vm-lv2-pc.json']) machineLevel('7.2', t);
  // device-list-properties / qom-list-properties answer from this table (commands/vm/qom-classes.ts)
  test("the QOM class table the model answers device-list-properties and qom-list-properties from is 7.2's qemu-system-x86_64's", async () => {
    assert.equal(await recordQomClasses('7.2'), QOM_CLASSES['7.2']);
  });
}

// QEMU 10.0's VM (scripts/fetch-qemu-10.sh unpacks it beside its daemon): the 10.0 set, re-recorded
if (!vmAvailable('10.0')) {
  console.log(`skipped: the QEMU 10.0 vm set is not re-recorded: ${vmUnavailableReason('10.0')}`);
  test(`vm 10.0 live re-recording (skipped: ${vmUnavailableReason('10.0')})`, () => undefined);
} else {
  test('the 10.0 VM runs with its own data directories and modules, and says it is 10.0.2', () => {
    const b = findQemuBinaries('10.0')!;
    assert.ok(b.vm && b.vmDataDirs?.length === 2 && b.vmModuleDir);
    for (const d of b.vmDataDirs!) assert.ok(existsSync(d), d);
    assert.ok(existsSync(join(b.vmDataDirs![1]!, 'bios-256k.bin')));
    assert.match(execFileSync(b.vm!, ['--version'], { encoding: 'utf8' }), /version 10\.0\.2/);
  });
  rerecordsAll(DIR_10, '10.0');
  for (const t of ['vm-lv2-iothreads.json', 'vm-lv2-pc.json']) machineLevel('10.0', t);
}

/**
 * The machine-level answers libvirt asks for at a domain's start (docs/vm.md "libvirt driving
 * blockgraph, round 2"), the model's (its own state, and the machine-facts fixture logged as
 * x-blockgraph-machine-facts) against the live VM's, on libvirt's machines with their devices:
 * the fixture, recorded on a bare machine, must still be the machine's with libvirt's devices on.
 */
function machineLevel(v: '7.2' | '10.0', transcript: string): void {
  test(`machine-level QMP on ${transcript}'s machine (${v}) is QEMU's: migration capabilities, CPU slots, the vCPU's qom-list and every qom-get, query-iothreads`, async () => {
    const dir = v === '10.0' ? DIR_10 : DIR;
    const scenario = scenarioOf(parseTranscript(readFileSync(join(dir, transcript), 'utf8')));
    const machine = scenario.vm!.machine === 'pc' ? 'pc' : 'q35';
    const facts = JSON.parse(readFileSync(resolve('oracle/machine-facts', v, `${machine}-qemu64.json`), 'utf8')) as Record<string, unknown>;
    const tmp = mkdtempSync(join(tmpdir(), 'bg-vm-'));
    const bins = findQemuBinaries(v)!;
    const asks: [string, Record<string, unknown>?][] = [
      ['query-migrate-capabilities'],
      // the QAPI visitor's refusals, whole (a bad element refuses the list)
      ...[{ capabilities: [{ capability: 'events', state: true }, { capability: 'nosuch', state: true }] }, { capabilities: [{ state: true }] },
        { capabilities: [{ capability: 'events', state: 1 }] }, { capabilities: [1] }, { capabilities: {} }, {}, { capabilities: [], x: 1 },
        { capabilities: [{ capability: 'events', state: true, x: 1 }] }]
        .map((a): [string, Record<string, unknown>] => ['migrate-set-capabilities', a]),
      ['migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] }],
      ['query-migrate-capabilities'], ['query-hotpluggable-cpus'], ['query-cpus-fast'], ['query-iothreads'], ['query-name'],
      ['qom-list', { path: '/machine/unattached/device[0]' }],
      ...(facts['cpu-properties'] as { name: string; type: string }[]).filter((p) => !/^(link|child)</.test(p.type))
        .map((p): [string, Record<string, unknown>] => ['qom-get', { path: '/machine/unattached/device[0]', property: p.name }]),
      ['qom-get', { path: '/machine/unattached/device[0]', property: 'nosuch' }],
    ];
    // the model has no host threads: thread-id is 0 in its answers (and in the fixture)
    const noThreads = (r: unknown): unknown => JSON.parse(JSON.stringify(r, (k, x) => (k === 'thread-id' && typeof x === 'number' && x > 0 ? 0 : x)));
    try {
      await createImagesWithQemuImg(scenario, tmp, v === '10.0' ? bins : undefined);
      const conn = await spawnVm(tmp, scenario.vm!, { bins });
      const live: unknown[] = [];
      try { for (const [c, a] of asks) live.push(noThreads(await conn.execute(c, a))); } finally { await conn.close(); }
      const backend = new MemoryBackend();
      await declareVersion(backend, scenario, v);
      await createModelImages(backend, scenario);
      await createModelMachine(backend, scenario);
      const f = await backend.execute('A', 'x-blockgraph-machine-facts', facts);
      assert.equal(f.reply, { return: {} });
      const model = new ModelConnection(backend, 'A');
      for (const [i, [c, a]] of asks.entries()) assert.equal(await model.execute(c, a), live[i], `${c} ${JSON.stringify(a ?? {})}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

/** npm test: a fixed sample with every area in it; npm run test:live: all of them (live-set.ts) */
function rerecordsAll(dir: string, v: '7.2' | '10.0'): void {
  const files = liveSelection(readdirSync(dir).filter((x) => x.endsWith('.json')), liveAll());
  const bins = findQemuBinaries(v)!;
  const recorded = prefetching(files.length, liveWidth(), (i) => rerecord(readFileSync(join(dir, files[i]!), 'utf8'), bins));
  files.forEach((f, i) => {
    test(`re-recording ${v === '10.0' ? 'qemu-10.0/' : ''}vm/${f} on qemu-system-x86_64 ${v} gives the same bytes`, async () => {
      const r = await recorded(i);
      if (r.note) console.log(`  vm/${f}: ${r.note}`);
      if (r.misses) assert.unreachable(r.misses);
    });
  });
}

test.run();
