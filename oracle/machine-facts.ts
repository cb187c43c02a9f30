// Machine facts: what a qemu-system-x86_64 machine answers about itself that the model has no
// mechanism for (the vCPU's QOM properties, the migration capabilities its build offers, the
// hotpluggable-CPU slots of its -smp), recorded from the real QEMU for one `-machine`/`-cpu` so
// that a clone can re-record it (`blockgraph qmp machine-facts`). The model takes the fixture as
// an input event (x-blockgraph-machine-facts, logged): replay never needs the host.
//
// Recorded paused (-S, as libvirt starts a domain), before any command changes anything; the only
// host-dependent members, the vCPU threads' ids (query-cpus-fast `thread-id`), are written as 0:
// the model has no host threads, and two recordings must be byte-identical.
import { makeOwnedDirSync, removeOwnedSync } from './temp-dirs.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockgraphError } from '../errors/index.js';
import type { QemuVersion } from '../graph/version.js';
import type { VmMachineFacts } from '../graph/types.js';
import type { QmpReply } from '../commands/protocol.js';
import { spawnVm } from './qemu-vm.js';
import type { QemuBinaries } from './qemu-bins.js';

export const MACHINE_FACTS_FORMAT = 1;

/**
 * The fixture file: the facts the model takes (graph/types.ts VmMachineFacts, documented there)
 * with the file's format version and QEMU's own version string (query-version's qemu triple and
 * package), which the model does not need.
 */
export interface MachineFacts extends VmMachineFacts {
  version: typeof MACHINE_FACTS_FORMAT;
  /** The QEMU version that answered (7.2 or 10.0): the model refuses facts of another. */
  qemu: QemuVersion;
  release: string;
}

const ok = (r: QmpReply, what: string): unknown => {
  if ('error' in r) throw new BlockgraphError('BG_QMP_ERROR', `${what}: ${r.error.desc}`);
  return r.return;
};

/** The facts of `machine` with `cpu` (qemu64: the default of q35 and pc under TCG, libvirt's `-cpu qemu64`). */
export async function recordMachineFacts(bins: QemuBinaries, machine: 'q35' | 'pc', cpu = 'qemu64'): Promise<MachineFacts> {
  if (cpu !== 'qemu64') throw new BlockgraphError('BG_BAD_INPUT', `--cpu ${cpu}: only qemu64 (the TCG default libvirt passes) is recorded`);
  const dir = makeOwnedDirSync(tmpdir(), 'blockgraph-facts');
  let vm: Awaited<ReturnType<typeof spawnVm>> | undefined;
  try {
    // inside the try: a VM that does not start left the directory
    vm = await spawnVm(dir, { version: 1, ...(machine === 'pc' ? { machine: 'pc' as const } : {}) }, { bins, label: 'facts' });
    const v = ok(await vm.execute('query-version'), 'query-version') as { qemu: { major: number; minor: number; micro: number }; package: string };
    const caps = ok(await vm.execute('query-migrate-capabilities'), 'query-migrate-capabilities') as MachineFacts['migrate-capabilities'];
    const hot = ok(await vm.execute('query-hotpluggable-cpus'), 'query-hotpluggable-cpus') as unknown[];
    const fast = (ok(await vm.execute('query-cpus-fast'), 'query-cpus-fast') as Record<string, unknown>[])
      .map((c) => ('thread-id' in c ? { ...c, 'thread-id': 0 } : c));
    const path = String(fast[0]?.['qom-path'] ?? '');
    const props = ok(await vm.execute('qom-list', { path }), 'qom-list') as { name: string; type: string }[];
    const values: MachineFacts['cpu-values'] = {};
    for (const p of props) {
      if (p.type.startsWith('link<') || p.type.startsWith('child<')) continue;
      const r = await vm.execute('qom-get', { path, property: p.name });
      values[p.name] = 'error' in r ? { error: { class: r.error.class, desc: r.error.desc } } : { return: r.return };
    }
    return {
      version: MACHINE_FACTS_FORMAT, qemu: bins.version, release: `${v.qemu.major}.${v.qemu.minor}.${v.qemu.micro} (${v.package})`,
      machine, cpu, 'migrate-capabilities': caps, 'hotpluggable-cpus': hot, 'cpus-fast': fast,
      'cpu-path': path, 'cpu-properties': props, 'cpu-values': values,
    };
  } finally {
    await vm?.close().catch(() => undefined);
    removeOwnedSync(dir);
  }
}

/** Where the repository keeps the fixture of `qemu`/`machine`/`cpu`. */
export function machineFactsPath(repo: string, qemu: QemuVersion, machine: string, cpu = 'qemu64'): string {
  return join(repo, 'oracle', 'machine-facts', qemu, `${machine}-${cpu}.json`);
}
