// libvirt driving blockgraph, unchanged (docs/vm.md "libvirt driving blockgraph, round 2"): where a
// libvirtd runs (as root), scripts/libvirt-blockgraph.sh does a day of virsh block work on a q35
// and a pc domain whose <emulator> is blockgraph (scripts/libvirt-emulator.sh: no replayed answers),
// then the same day on the real qemu-system-x86_64; virsh must answer the same, step for step, but
// for what the model has no mechanism for (domblkinfo's Allocation and Physical: the host file's
// blocks and length after QEMU wrote to it; a finished backup's byte counts; elapsed times), and
// blockgraph's log of each domain must replay to its recorded hashes. Without libvirtd the spec
// says why and runs nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (libvirt runs the domain as root here)';
  const v = spawnSync('virsh', ['-q', '-c', 'qemu:///system', 'version'], { encoding: 'utf8', timeout: 10_000 });
  if (v.error) return 'virsh is not installed (apt-get install libvirt-clients libvirt-daemon-driver-qemu libvirt-daemon)';
  if (v.status !== 0) return 'libvirtd is not running (start it as scripts/libvirt-capture.sh does)';
  return undefined;
}

/** steps.tsv as [domain, step, exit, output] with OUT's path made neutral and the unmodelled figures taken out. */
function steps(out: string): string[][] {
  return readFileSync(join(out, 'steps.tsv'), 'utf8').trim().split('\n').map((l) => l.replaceAll(out, 'OUT').split('\t')).map(([d, s, rc, text]) => {
    let t = text ?? '';
    if (s!.startsWith('domblkinfo')) t = t.replace(/Allocation: +\d+/, 'Allocation: N').replace(/Physical: +\d+/, 'Physical: N');
    if (s === 'domjobinfo-completed') t = t.split(' | ').filter((x) => !/^(Time elapsed|File (processed|remaining|total))/.test(x)).join(' | ');
    return [d!, s!, rc!, t.trim()];
  });
}

const why = unavailable();
if (why) {
  console.log(`skipped: libvirt driving blockgraph: ${why}`);
  test(`libvirt driving blockgraph (skipped: ${why})`, () => undefined);
} else {
  test('virsh drives blockgraph as it drives QEMU: a day of block work on q35 and pc, the same answers, the log replays', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-libvirt-'));
    try {
      const script = resolve('scripts/libvirt-blockgraph.sh');
      execFileSync(script, [join(dir, 'bg')], { stdio: 'ignore', timeout: 300_000 });
      execFileSync(script, [join(dir, 'qemu')], { stdio: 'ignore', timeout: 300_000, env: { ...process.env, EMULATOR: '/usr/bin/qemu-system-x86_64' } });
      const bg = steps(join(dir, 'bg')), qemu = steps(join(dir, 'qemu'));
      assert.is(bg.length, qemu.length);
      assert.ok(bg.length >= 60, `${bg.length} steps`);
      for (const [i, s] of bg.entries()) assert.equal(s, qemu[i], `${s[0]} ${s[1]}`);
      // libvirt's own refusal on pc (-no-acpi: pci.0 has no hotplug handler), as QEMU's
      assert.ok(bg.some(([d, s, rc, t]) => d === 'pc' && s === 'attach-virtio' && rc === '1' && /Bus 'pci.0' does not support hotplugging/.test(t!)));
      assert.ok(bg.filter(([, , rc]) => rc === '0').length >= bg.length - 2);
      for (const m of ['q35', 'pc']) {
        const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'replay', '--db', join(dir, 'bg', `${m}.db`), '--verify'], { encoding: 'utf8' });
        assert.is(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /state hashes match/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
