// Where each QEMU version's binaries are. 7.2 is the system's (qemu-storage-daemon, qemu-img,
// qemu-io on PATH, or BLOCKGRAPH_QSD for the daemon). 10.0 is unpacked beside it, not installed
// (scripts/fetch-qemu-10.sh puts Debian bookworm-backports' packages in a cache directory):
// BLOCKGRAPH_QEMU_10_0_DIR (the directory holding the binaries), else
// ~/.cache/blockgraph/qemu-10.0/usr/bin, else /opt/qemu10/root/usr/bin.
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { BlockgraphError } from '../errors/index.js';
import { DEFAULT_QEMU, type QemuVersion } from '../graph/version.js';

export interface QemuBinaries {
  version: QemuVersion; qsd: string; img: string; io: string;
  /**
   * The VM (qemu-system-x86_64, the vm target), when this version has one here. 10.0's is
   * unpacked beside its daemon with the data it reads at run time (firmware, option ROMs): it
   * runs with `-L` of each of `vmDataDirs` and QEMU_MODULE_DIR `vmModuleDir`, never reading the
   * system 7.2 packages' /usr/share/qemu, /usr/share/seabios or modules (oracle/qemu-vm.ts).
   */
  vm?: string; vmDataDirs?: string[]; vmModuleDir?: string;
}

const executable = (p: string): boolean => {
  try { accessSync(p, constants.X_OK); return true; } catch { return false; }
};

/** The directories searched for QEMU 10.0's binaries, in order. */
export function qemu10Dirs(): string[] {
  const env = process.env.BLOCKGRAPH_QEMU_10_0_DIR;
  if (env) return [env];
  return [join(homedir(), '.cache', 'blockgraph', 'qemu-10.0', 'usr', 'bin'), '/opt/qemu10/root/usr/bin'];
}

/**
 * The binaries of `v`, or undefined when that version is not on this machine. For 7.2 the names
 * are resolved on PATH by the caller (oracle/qsd.ts findExecutable), as before versions existed.
 */
export function findQemuBinaries(v: QemuVersion = DEFAULT_QEMU): QemuBinaries | undefined {
  if (v === '7.2') {
    return { version: v, qsd: process.env.BLOCKGRAPH_QSD ?? 'qemu-storage-daemon', img: 'qemu-img', io: 'qemu-io', vm: process.env.BLOCKGRAPH_QEMU_SYSTEM ?? 'qemu-system-x86_64' };
  }
  for (const d of qemu10Dirs()) {
    const qsd = join(d, 'qemu-storage-daemon');
    if (executable(qsd)) return { version: v, qsd, img: join(d, 'qemu-img'), io: join(d, 'qemu-io'), ...vm10(d) };
  }
  return undefined;
}

/**
 * 10.0's VM in the directory `d` of its daemon (scripts/fetch-qemu-10.sh: qemu-system-x86,
 * qemu-system-data, seabios), or nothing when it or the firmware it loads at start is missing.
 */
function vm10(d: string): Pick<QemuBinaries, 'vm' | 'vmDataDirs' | 'vmModuleDir'> {
  const vm = join(d, 'qemu-system-x86_64');
  const share = join(dirname(d), 'share');
  const dataDirs = [join(share, 'qemu'), join(share, 'seabios')];
  // pc_system_firmware_init loads bios-256k.bin, the i8259/vapic kvmvapic.bin, both at machine init
  if (!executable(vm) || !exists(join(share, 'seabios', 'bios-256k.bin')) || !exists(join(share, 'qemu', 'kvmvapic.bin'))) return {};
  return { vm, vmDataDirs: dataDirs, vmModuleDir: join(dirname(d), 'lib', 'x86_64-linux-gnu', 'qemu') };
}

const exists = (p: string): boolean => {
  try { accessSync(p, constants.R_OK); return true; } catch { return false; }
};

/** Why the VM of `v` cannot run here, or undefined when it can (what a skipped spec prints). */
export function vmMissing(v: QemuVersion): string | undefined {
  if (v === '7.2') return undefined;
  const b = findQemuBinaries(v);
  if (!b) return `QEMU ${v} is not on this machine (looked in ${qemu10Dirs().join(', ')}); scripts/fetch-qemu-10.sh fetches it`;
  if (!b.vm) return `QEMU ${v}'s qemu-system-x86_64 (with usr/share/seabios/bios-256k.bin, usr/share/qemu/kvmvapic.bin) is not beside its qemu-storage-daemon in ${dirname(b.qsd)}; scripts/fetch-qemu-10.sh adds it`;
  return undefined;
}

export function requireQemuBinaries(v: QemuVersion = DEFAULT_QEMU): QemuBinaries {
  const b = findQemuBinaries(v);
  if (!b) {
    throw new BlockgraphError('BG_UNSUPPORTED',
      `QEMU ${v} is not on this machine (looked in ${qemu10Dirs().join(', ')}); scripts/fetch-qemu-10.sh fetches it, or set BLOCKGRAPH_QEMU_10_0_DIR`, { version: v });
  }
  return b;
}

/** The binaries of `v` with its VM, or BG_UNSUPPORTED saying what is missing. */
export function requireQemuVm(v: QemuVersion = DEFAULT_QEMU): QemuBinaries {
  const why = vmMissing(v);
  if (why) throw new BlockgraphError('BG_UNSUPPORTED', why, { version: v });
  return requireQemuBinaries(v);
}
