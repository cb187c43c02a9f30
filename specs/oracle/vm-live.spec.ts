// The vm target's recorder (issue 17): re-records the vm transcripts on qemu-system-x86_64 and
// requires byte identity; plus the `vm` member's parsing, printing and refusals.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseScenario, parseTranscript, printTranscript, runScenario, scenarioOf } from '../../oracle/index.js';
import { createImagesWithQemuImg } from '../../oracle/qsd.js';
import { spawnVm, vmArgs, vmAvailable } from '../../oracle/qemu-vm.js';

const DIR = resolve('oracle/transcripts/vm');
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
      assert.match((e as Error).message, /died|exited/);
      assert.match((e as Error).message, /nosuch|Bus|drive/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  for (const f of readdirSync(DIR).filter((x) => x.endsWith('.json')).sort()) {
    test(`re-recording vm/${f} on qemu-system-x86_64 gives the same bytes`, async () => {
      const text = readFileSync(join(DIR, f), 'utf8');
      const scenario = scenarioOf(parseTranscript(text));
      const dir = mkdtempSync(join(tmpdir(), 'bg-vm-'));
      try {
        await createImagesWithQemuImg(scenario, dir);
        const t = await runScenario(scenario, (proc) => spawnVm(dir, scenario.vm!, { label: proc }), { dir });
        const out = printTranscript(t);
        const a = text.split('\n'), b = out.split('\n');
        const i = a.findIndex((l, k) => l !== b[k]);
        assert.is(i, -1, `first difference at line ${i + 1}:\n- ${a[i]}\n+ ${b[i]}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

test.run();
