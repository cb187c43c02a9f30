// Where each QEMU version's binaries are. 7.2 is the system's (qemu-storage-daemon, qemu-img,
// qemu-io on PATH, or BLOCKGRAPH_QSD for the daemon). 10.0 is unpacked beside it, not installed
// (scripts/fetch-qemu-10.sh puts Debian bookworm-backports' packages in a cache directory):
// BLOCKGRAPH_QEMU_10_0_DIR (the directory holding the binaries), else
// ~/.cache/blockgraph/qemu-10.0/usr/bin, else /opt/qemu10/root/usr/bin.
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BlockgraphError } from '../errors/index.js';
import { DEFAULT_QEMU, type QemuVersion } from '../graph/version.js';

export interface QemuBinaries { version: QemuVersion; qsd: string; img: string; io: string }

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
  if (v === '7.2') return { version: v, qsd: process.env.BLOCKGRAPH_QSD ?? 'qemu-storage-daemon', img: 'qemu-img', io: 'qemu-io' };
  for (const d of qemu10Dirs()) {
    const qsd = join(d, 'qemu-storage-daemon');
    if (executable(qsd)) return { version: v, qsd, img: join(d, 'qemu-img'), io: join(d, 'qemu-io') };
  }
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
