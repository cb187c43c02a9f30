// Where the oracle's daemons find their image files: /dev/shm where there is one, else the OS
// temp dir. One place for the fuzzer and every recorder, because QEMU's answers can depend on the
// file system: file-posix's raw_probe_alignment (cache.direct=on) finds 4096 on tmpfs, 512 on ext4
// over 512-byte sectors, and the model assumes the former (graph/refresh.ts HOST_DIRECT_ALIGNMENT).
// A tmpfs also has no discard on unlink (the fuzzer removes ~50 MB a case).
import { accessSync, constants, statSync } from 'node:fs';
import { tmpdir } from 'node:os';

export function imageRoot(): string {
  try {
    if (statSync('/dev/shm').isDirectory()) { accessSync('/dev/shm', constants.W_OK); return '/dev/shm'; }
  } catch { /* no tmpfs: the OS temp dir */ }
  return tmpdir();
}
