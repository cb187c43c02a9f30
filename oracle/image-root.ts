// Where the oracle's daemons find their image files, and the host fact that depends on it.
// QEMU's answers can depend on the file system: file-posix's raw_probe_alignment (cache.direct=on)
// finds 4096 on tmpfs, 512 on ext4 over 512-byte sectors. The model never looks at the machine
// (graph/host-facts.ts); the recorders probe their image directory the way QEMU does and write
// what they find into the scenario's `host` member (oracle/format.ts HostSpec), which the model
// takes as an input.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockgraphError } from '../errors/index.js';
import { DEFAULT_DIRECT_IO_ALIGNMENT, hostFacts } from '../graph/host-facts.js';
import { Draft } from '../graph/draft.js';
import type { ModelBackend } from '../commands/model-host.js';
import type { Scenario } from './format.js';
import { makeOwnedDirSync, removeOwnedSync } from './temp-dirs.js';

const usable = (dir: string): boolean => {
  try { if (!statSync(dir).isDirectory()) return false; accessSync(dir, constants.W_OK); return true; } catch { return false; }
};

/**
 * The fuzzer's (and the default) image root: BLOCKGRAPH_IMAGE_ROOT when set, else /dev/shm where
 * there is one (a tmpfs has no discard on unlink: the fuzzer removes ~50 MB a case), else the OS
 * temp dir.
 */
export function imageRoot(): string {
  const env = process.env.BLOCKGRAPH_IMAGE_ROOT;
  if (env) {
    if (!usable(env)) throw new BlockgraphError('BG_BAD_INPUT', `BLOCKGRAPH_IMAGE_ROOT=${env} is not a writable directory`);
    return env;
  }
  return usable('/dev/shm') ? '/dev/shm' : tmpdir();
}

const probed = new Map<string, number>();

/**
 * raw_probe_alignment (block/file-posix.c 7.2) on a file of `root`: O_DIRECT reads of 1, 512,
 * 1024, 2048, 4096 bytes at offset 0 (here `dd iflag=direct`, whose buffer is page aligned as
 * QEMU's is), the first that works; 1 means "no restriction" and QEMU then takes
 * MAX(MAX_BLOCKSIZE, page size) = 4096. None working is QEMU's "Could not find working O_DIRECT
 * alignment": such a directory cannot hold the oracle's images. The probe file has data at offset
 * 0, as every image file does. Cached per root.
 */
export function probeDirectIoAlignment(root: string): number {
  const known = probed.get(root);
  if (known !== undefined) return known;
  const dir = makeOwnedDirSync(root, 'bg-align');
  let found: number | undefined;
  try {
    const f = join(dir, 'probe');
    writeFileSync(f, Buffer.alloc(8192, 1));
    for (const bs of [1, 512, 1024, 2048, 4096]) {
      try {
        execFileSync('dd', [`if=${f}`, 'of=/dev/null', 'iflag=direct', `bs=${bs}`, 'count=1', 'status=none'], { stdio: 'ignore' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new BlockgraphError('BG_BAD_INPUT', 'dd (coreutils) is needed to probe the image directory\'s O_DIRECT alignment');
        continue;
      }
      found = bs === 1 ? 4096 : bs;
      break;
    }
  } finally {
    removeOwnedSync(dir);
  }
  if (found === undefined) throw new BlockgraphError('BG_BAD_INPUT', `${root}: no O_DIRECT read works there (QEMU: Could not find working O_DIRECT alignment)`);
  probed.set(root, found);
  return found;
}

/**
 * Where a recorder keeps `scenario`'s images: BLOCKGRAPH_IMAGE_ROOT when set; else the first of
 * the default root and the OS temp dir whose O_DIRECT alignment is the one the scenario declares
 * (absent: 512), so a re-recording of a transcript runs on the host it was recorded on and gives
 * the same bytes; else the default root (and the transcript then says what that host is).
 */
export function recordingRoot(scenario: Pick<Scenario, 'host'>): string {
  if (process.env.BLOCKGRAPH_IMAGE_ROOT) return imageRoot();
  const want = scenario.host?.['direct-io-alignment'] ?? DEFAULT_DIRECT_IO_ALIGNMENT;
  const roots = [...new Set([imageRoot(), tmpdir()])];
  return roots.find((r) => probeDirectIoAlignment(r) === want) ?? roots[0]!;
}

/**
 * `scenario` with the host facts of `root` (the directory its images are made in): `host` is
 * written when it differs from the default or the scenario already had one, so a transcript
 * recorded on the default host keeps the format it always had.
 */
export function onHostOf<S extends Scenario>(scenario: S, root: string): S {
  const a = probeDirectIoAlignment(root);
  if (a === DEFAULT_DIRECT_IO_ALIGNMENT && scenario.host === undefined) return scenario;
  return { ...scenario, host: { ...scenario.host, 'direct-io-alignment': a } };
}

/**
 * For a model that mirrors a daemon whose images are in `dir` (the QMP proxy, `import
 * --image-dir`): declares that directory's O_DIRECT alignment (x-blockgraph-host, logged) unless
 * the model already has it (or the directory cannot be probed).
 */
export async function declareHostOf(backend: ModelBackend, proc: string, dir: string): Promise<void> {
  let a: number;
  // a directory that cannot be probed (read-only, no dd): the model keeps what it has
  try { a = probeDirectIoAlignment(dir); } catch { return; }
  if (hostFacts(new Draft(backend.state)).directIoAlignment === a) return;
  const r = await backend.execute(proc, 'x-blockgraph-host', { 'direct-io-alignment': a });
  if ('error' in r.reply) throw new BlockgraphError('BG_BAD_INPUT', `host: ${r.reply.error.desc}`);
}
