import { QmpError } from '../errors/index.js';
import { parseQemuVersion, QEMU_VERSIONS } from '../graph/version.js';
import type { CommandDef } from './types.js';

/**
 * Declares the QEMU version a process models, as its first command (a process stream starts
 * here): `{"qemu": "10.0"}`. Logged like every command (txn.begun's args carry the version,
 * the step writes it into the process's meta), so a replay knows it; a process that never
 * declares one is 7.2, as every log older than the declaration reads. Refused once the
 * process has done anything: one qemu-storage-daemon runs one version for its lifetime.
 */
export const processStart: CommandDef = {
  name: 'x-blockgraph-process-start',
  mutates: true,
  run({ p, args }) {
    for (const k of Object.keys(args)) if (k !== 'qemu') throw new QmpError(`Parameter '${k}' is unexpected`);
    if (args.qemu === undefined) throw new QmpError("Parameter 'qemu' is missing");
    if (typeof args.qemu !== 'string') throw new QmpError("Invalid parameter type for 'qemu', expected: string");
    const v = parseQemuVersion(args.qemu);
    if (!v || args.qemu !== v) throw new QmpError(`Parameter 'qemu' does not accept value '${args.qemu}' (one of: ${QEMU_VERSIONS.join(', ')})`);
    const started = p.d.values(p.name, 'nodes').length + p.d.values(p.name, 'objects').length + p.d.values(p.name, 'exports').length > 0
      || p.meta().seq > 0 || p.meta().qemu !== undefined || p.meta().nbd !== null;
    if (started) throw new QmpError(`blockgraph: process '${p.name}' has already started (QEMU ${p.meta().qemu ?? '7.2'}); its version is declared by its first command`);
    p.step('declare-version');
    p.setMeta({ qemu: v });
    return {};
  },
};
