// Facts about the host the model cannot derive and must not read from its environment
// (machines and replay are deterministic): they arrive as an input, the scenario's `host`
// member (oracle/format.ts), logged through `x-blockgraph-host` (commands/host-facts.ts) and kept
// in the host scope like the image catalogue, so a replay of the log sees the same facts.
import type { Draft } from './draft.js';
import { HOST } from './types.js';

export interface HostFacts {
  /**
   * What file-posix's raw_probe_alignment (block/file-posix.c) finds for an image opened with
   * O_DIRECT: the smallest of 512, 1024, 2048, 4096 bytes an O_DIRECT pread at offset 0 accepts,
   * 4096 (MAX(MAX_BLOCKSIZE, page size)) when even 1 byte works. It is the image directory's file
   * system's: 512 on ext4 over 512-byte sectors, 4096 on tmpfs.
   */
  directIoAlignment: number;
}

/**
 * When nothing is declared: a fresh os.tmpdir() on the common host (ext4 over a disk of
 * 512-byte logical sectors), where the public transcript format has images created.
 */
export const DEFAULT_DIRECT_IO_ALIGNMENT = 512;

/** The values raw_probe_alignment can end with. */
export const DIRECT_IO_ALIGNMENTS = [512, 1024, 2048, 4096] as const;

export function hostFacts(d: Draft): HostFacts {
  const f = d.get<Partial<HostFacts>>(HOST, 'meta', 'host');
  return { directIoAlignment: f?.directIoAlignment ?? DEFAULT_DIRECT_IO_ALIGNMENT };
}

export function setHostFacts(d: Draft, f: Partial<HostFacts>): void {
  d.put(HOST, 'meta', 'host', { ...d.get<Partial<HostFacts>>(HOST, 'meta', 'host'), ...f });
}
