// The machine-level QMP libvirt sends at a domain's start and around block work (docs/vm.md
// "libvirt driving blockgraph, round 2"). What the model keeps itself answers from its own state:
// the iothreads (-object iothread), the chardevs and the name of the command line
// (x-blockgraph-machine), the migration capabilities libvirt sets. What is a fact of QEMU's
// machine the model has no mechanism for — the vCPU's QOM properties, the capabilities the build
// offers, the CPU slots of -smp — comes from the machine-facts fixture recorded from the real
// QEMU (oracle/machine-facts.ts) and logged as an input (x-blockgraph-machine-facts): without it
// those commands are refused as not modelled, never answered with made-up values.
import { QmpError } from '../../errors/index.js';
import type { Proc } from '../../graph/proc.js';
import type { VmMachineFacts } from '../../graph/types.js';
import { versionOf } from '../../graph/version.js';
import type { CommandDef } from '../types.js';
import { checkArgs } from './qapi.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const noFacts = (cmd: string) => new QmpError(`blockgraph: ${cmd} needs the machine's facts (x-blockgraph-machine-facts, recorded by \`blockgraph qmp machine-facts\`); not modelled without them`);

function facts(p: Proc, cmd: string): VmMachineFacts {
  const f = p.machineFacts();
  if (!f) throw noFacts(cmd);
  return f;
}

/**
 * x-blockgraph-machine-facts (blockgraph's own; vm target): the fixture of oracle/machine-facts.ts
 * as an input event, once per process, of the process's own QEMU version and machine type.
 */
export const xBlockgraphMachineFacts: CommandDef = {
  name: 'x-blockgraph-machine-facts',
  mutates: true,
  run({ p, args }) {
    if (p.meta().target !== 'vm') throw new QmpError('x-blockgraph-machine-facts: the process is not a VM (x-blockgraph-machine first)');
    if (p.machineFacts()) throw new QmpError('x-blockgraph-machine-facts: the machine already has its facts');
    if (args.version !== 1) throw new QmpError('x-blockgraph-machine-facts: version must be 1');
    const v = versionOf(p);
    if (args.qemu !== v) throw new QmpError(`x-blockgraph-machine-facts: facts of QEMU ${String(args.qemu)}, the process is QEMU ${v}`);
    const machine = p.meta().machine ?? 'q35';
    if (args.machine !== machine) throw new QmpError(`x-blockgraph-machine-facts: facts of machine ${String(args.machine)}, the process is ${machine}`);
    for (const k of ['migrate-capabilities', 'hotpluggable-cpus', 'cpus-fast', 'cpu-properties'] as const) {
      if (!Array.isArray(args[k])) throw new QmpError(`x-blockgraph-machine-facts: ${k} must be a list`);
    }
    if (typeof args['cpu-path'] !== 'string' || !isObj(args['cpu-values']) || typeof args.cpu !== 'string') {
      throw new QmpError('x-blockgraph-machine-facts: cpu, cpu-path and cpu-values are required');
    }
    p.step(`machine facts ${machine} ${args.cpu} (QEMU ${v})`);
    const { version: _v, release: _r, ...f } = args;
    p.setMachineFacts(f as unknown as VmMachineFacts);
    return {};
  },
};

/** qmp_query_migrate_capabilities: every capability of the build, with its state (migrate_get_current()->capabilities). */
export const queryMigrateCapabilities: CommandDef = {
  name: 'query-migrate-capabilities',
  mutates: false,
  run({ p, args }) {
    checkArgs(args, []);
    const set = p.meta().migrateCaps ?? {};
    return facts(p, 'query-migrate-capabilities')['migrate-capabilities'].map((c) => ({ state: set[c.capability] ?? c.state, capability: c.capability })) as never;
  },
};

/**
 * qmp_migrate_set_capabilities: migrate_caps_check on the new set, then the states are stored.
 * Only `events` (what libvirt sets at start) is modelled: it is free of migrate_caps_check's rules
 * (every other capability has a check or a dependency on the host); a capability the build does
 * not have is refused by the QAPI enum visitor.
 */
export const migrateSetCapabilities: CommandDef = {
  name: 'migrate-set-capabilities',
  mutates: true,
  run({ p, args }) {
    const known = facts(p, 'migrate-set-capabilities')['migrate-capabilities'].map((c) => c.capability);
    // the QAPI visitor first (qobject-input-visitor.c, texts as QEMU 7.2 gives them): the whole
    // list is visited before the command runs, so a bad element refuses it all
    const list = args.capabilities;
    if (list === undefined) throw new QmpError("Parameter 'capabilities' is missing");
    if (!Array.isArray(list)) throw new QmpError("Invalid parameter type for 'capabilities', expected: array");
    for (const [i, c] of list.entries()) {
      const at = `capabilities[${i}]`;
      if (!isObj(c)) throw new QmpError(`Invalid parameter type for '${at}', expected: object`);
      if (c.capability === undefined) throw new QmpError(`Parameter '${at}.capability' is missing`);
      if (typeof c.capability !== 'string') throw new QmpError(`Invalid parameter type for '${at}.capability', expected: string`);
      // (the enum visitor names the member alone)
      if (!known.includes(c.capability)) throw new QmpError(`Parameter 'capability' does not accept value '${c.capability}'`);
      if (c.state === undefined) throw new QmpError(`Parameter '${at}.state' is missing`);
      if (typeof c.state !== 'boolean') throw new QmpError(`Invalid parameter type for '${at}.state', expected: boolean`);
      for (const k of Object.keys(c)) if (k !== 'capability' && k !== 'state') throw new QmpError(`Parameter '${at}.${k}' is unexpected`);
    }
    for (const k of Object.keys(args)) if (k !== 'capabilities') throw new QmpError(`Parameter '${k}' is unexpected`);
    const next = { ...(p.meta().migrateCaps ?? {}) };
    for (const c of list as { capability: string; state: boolean }[]) {
      if (c.capability !== 'events') throw new QmpError(`blockgraph: migrate-set-capabilities of '${c.capability}' is not modelled (migrate_caps_check)`);
      next[c.capability] = c.state;
    }
    p.step('migrate-set-capabilities');
    p.setMeta({ migrateCaps: next });
    return {};
  },
};

/** qmp_query_hotpluggable_cpus (machine_query_hotpluggable_cpus): the slots of -smp, all taken by the boot vCPU here. */
export const queryHotpluggableCpus: CommandDef = {
  name: 'query-hotpluggable-cpus',
  mutates: false,
  run({ p, args }) {
    checkArgs(args, []);
    return facts(p, 'query-hotpluggable-cpus')['hotpluggable-cpus'] as never;
  },
};

/** qmp_query_cpus_fast: each vCPU (the model has no host threads: thread-id 0, as the fixture has it). */
export const queryCpusFast: CommandDef = {
  name: 'query-cpus-fast',
  mutates: false,
  run({ p, args }) {
    checkArgs(args, []);
    return facts(p, 'query-cpus-fast')['cpus-fast'] as never;
  },
};

/** qom-list / qom-get of the vCPU's path: the fixture's answers (its properties are not modelled). */
export function cpuQom(p: Proc, cmd: 'qom-list' | 'qom-get', path: string, property?: string): { hit: true; value: unknown } | { hit: false } {
  if (p.meta().target !== 'vm') return { hit: false };
  const f = p.machineFacts();
  if (!f || path !== f['cpu-path']) return { hit: false };
  if (cmd === 'qom-list') return { hit: true, value: f['cpu-properties'] };
  const v = f['cpu-values'][String(property)];
  if (!v) {
    const p0 = f['cpu-properties'].find((x) => x.name === property);
    // a link or child property: its target's path (not kept in the fixture)
    if (p0) throw new QmpError(`blockgraph: qom-get of the vCPU's ${p0.type} property is not modelled`);
    throw new QmpError(`Property '${String(f['cpu-values'].type && 'return' in f['cpu-values'].type ? f['cpu-values'].type.return : f.cpu)}.${String(property)}' not found`);
  }
  if ('error' in v) throw new QmpError(v.error.desc, v.error.class as never);
  return { hit: true, value: v.return };
}

/**
 * qmp_query_iothreads: every iothread object (query_one_iothread). `thread-id` is 0: the model
 * has no host threads. The order is object_child_foreach's over /objects, a GHashTable whose
 * order depends on every child of the container (libvirt's secret and memory backend too): not
 * modelled (libvirt matches them by id): by id, descending, as QEMU answered libvirt's
 * two-iothread domain (iothread2, iothread1).
 */
export const queryIothreads: CommandDef = {
  name: 'query-iothreads',
  mutates: false,
  run({ p, args }) {
    checkArgs(args, []);
    const ios = p.objects().filter((o) => o.qomType === 'iothread').reverse();
    const n = (o: { props: Record<string, unknown> }, k: string, d: number) => (typeof o.props[k] === 'number' ? o.props[k] as number : d);
    return ios.map((o) => ({ id: o.id, 'thread-id': 0, 'poll-max-ns': n(o, 'poll-max-ns', 32768), 'poll-grow': n(o, 'poll-grow', 0), 'poll-shrink': n(o, 'poll-shrink', 0), 'aio-max-batch': n(o, 'aio-max-batch', 0) })) as never;
  },
};

/** qmp_query_chardev: the command line's chardevs (libvirt's monitor). QSD's stays not modelled. */
export const queryChardev: CommandDef = {
  name: 'query-chardev',
  mutates: false,
  run({ p, args }) {
    if (p.meta().target !== 'vm') throw new QmpError('blockgraph: query-chardev is not modelled (qemu-storage-daemon 7.2 has it; see docs/qmp.md)');
    checkArgs(args, []);
    // object_child_foreach over /chardevs: one chardev here, so its order is not a question
    return (p.meta().chardevs ?? []).map((c) => ({ 'frontend-open': c['frontend-open'], filename: c.filename, label: c.label })) as never;
  },
};

/** qmp_query_name: -name's guest name, absent without one. */
export const queryName: CommandDef = {
  name: 'query-name',
  mutates: false,
  run({ p, args }) {
    checkArgs(args, []);
    const name = p.meta().name;
    return (name === undefined ? {} : { name }) as never;
  },
};

export const MACHINE_LEVEL_COMMANDS: readonly CommandDef[] = [
  queryMigrateCapabilities, migrateSetCapabilities, queryHotpluggableCpus, queryCpusFast, queryIothreads, queryName,
];
