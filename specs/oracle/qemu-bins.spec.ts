// Where each QEMU version's binaries are (oracle/qemu-bins.ts), the VM included: 10.0's
// qemu-system-x86_64 counts only with the firmware it loads at machine init beside it, and a
// missing one is said (the VM-10.0 specs print it when they skip). And the cache
// scripts/fetch-qemu-10.sh fills: once whole, a second run leaves it as it is, at once.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findQemuBinaries, requireQemuVm, vmMissing } from '../../oracle/qemu-bins.js';
import { vmAvailable } from '../../oracle/qemu-vm.js';

const withDir = (dir: string, f: () => void) => {
  const old = process.env.BLOCKGRAPH_QEMU_10_0_DIR;
  process.env.BLOCKGRAPH_QEMU_10_0_DIR = dir;
  try { f(); } finally {
    if (old === undefined) delete process.env.BLOCKGRAPH_QEMU_10_0_DIR;
    else process.env.BLOCKGRAPH_QEMU_10_0_DIR = old;
  }
};
const exe = (p: string) => { writeFileSync(p, '#!/bin/sh\n'); chmodSync(p, 0o755); };

test('a 10.0 cache with the daemon only: no VM, and the reason names what is missing', () => {
  const root = mkdtempSync(join(tmpdir(), 'bg-bins-'));
  try {
    const bin = join(root, 'usr', 'bin');
    mkdirSync(bin, { recursive: true });
    exe(join(bin, 'qemu-storage-daemon'));
    withDir(bin, () => {
      const b = findQemuBinaries('10.0')!;
      assert.is(b.qsd, join(bin, 'qemu-storage-daemon'));
      assert.is(b.vm, undefined);
      assert.match(vmMissing('10.0') ?? '', /qemu-system-x86_64 .* is not beside its qemu-storage-daemon .*fetch-qemu-10\.sh/);
      assert.not.ok(vmAvailable('10.0'));
      assert.throws(() => requireQemuVm('10.0'), /not beside/);
      // the binary without its firmware does not count either (pc_system_firmware_init would fail)
      exe(join(bin, 'qemu-system-x86_64'));
      assert.is(findQemuBinaries('10.0')!.vm, undefined);
      mkdirSync(join(root, 'usr', 'share', 'seabios'), { recursive: true });
      mkdirSync(join(root, 'usr', 'share', 'qemu'), { recursive: true });
      writeFileSync(join(root, 'usr', 'share', 'seabios', 'bios-256k.bin'), '');
      assert.is(findQemuBinaries('10.0')!.vm, undefined);
      writeFileSync(join(root, 'usr', 'share', 'qemu', 'kvmvapic.bin'), '');
      const b2 = findQemuBinaries('10.0')!;
      assert.is(b2.vm, join(bin, 'qemu-system-x86_64'));
      assert.equal(b2.vmDataDirs, [join(root, 'usr', 'share', 'qemu'), join(root, 'usr', 'share', 'seabios')]);
      assert.is(b2.vmModuleDir, join(root, 'usr', 'lib', 'x86_64-linux-gnu', 'qemu'));
      assert.is(vmMissing('10.0'), undefined);
    });
    withDir(join(root, 'nosuch'), () => {
      assert.is(findQemuBinaries('10.0'), undefined);
      assert.match(vmMissing('10.0') ?? '', /QEMU 10\.0 is not on this machine/);
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('7.2 is the system one: its VM is qemu-system-x86_64 on PATH, never missing', () => {
  assert.is(findQemuBinaries('7.2')!.vm, process.env.BLOCKGRAPH_QEMU_SYSTEM ?? 'qemu-system-x86_64');
  assert.is(vmMissing('7.2'), undefined);
});

const real = findQemuBinaries('10.0');
if (!real || vmMissing('10.0')) {
  console.log(`skipped: the QEMU 10.0 cache check: ${vmMissing('10.0')}`);
  test('the fetched 10.0 cache (skipped: not fetched)', () => undefined);
} else {
  test('the fetched 10.0 cache: both binaries 10.0.2, and a second fetch leaves it as it is, at once', () => {
    assert.match(execFileSync(real.qsd, ['--version'], { encoding: 'utf8' }), /version 10\.0\.2/);
    assert.match(execFileSync(real.vm!, ['--version'], { encoding: 'utf8' }), /version 10\.0\.2/);
    // the cache is the script's argument: the directory above usr/bin
    const cache = join(dirname(real.qsd), '..', '..');
    const t0 = performance.now();
    const r = spawnSync('scripts/fetch-qemu-10.sh', [cache], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), join(cache, 'usr', 'bin'));
    assert.ok(performance.now() - t0 < 5000, 'no apt run for a whole cache');
  });
}

test.run();
