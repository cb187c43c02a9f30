// query-commands and query-qmp-schema answer exactly what qemu-storage-daemon 7.2 answers: both
// were recorded from the daemon (commands/qsd/recording.ts), so schema-driven clients (qmp-shell's
// completion, libvirt-style capability probes) see QSD's own command set and types.
import { QSD_RECORDING } from './qsd/recording.js';
import type { CommandDef } from './types.js';

// Both answers are constants: frozen, so the server may encode them once.
let commands: readonly unknown[] | undefined;

export const queryCommands: CommandDef = {
  name: 'query-commands', mutates: false,
  run: () => (commands ??= Object.freeze(QSD_RECORDING.commands.map((c) => ({ name: c.name })))),
};

/**
 * The recording keeps each object's members in QEMU's wire order, which is QDict iteration order
 * (buckets ascending, newest first within a bucket). Reversing the members gives an insertion
 * order that iterates back to exactly that order, so the writer reproduces QEMU's bytes.
 */
function asInserted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(asInserted);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).reverse()) out[k] = asInserted((v as Record<string, unknown>)[k]);
  return out;
}
let schema: readonly unknown[] | undefined;

export const queryQmpSchema: CommandDef = {
  name: 'query-qmp-schema', mutates: false,
  run: () => (schema ??= Object.freeze(QSD_RECORDING.schema.map(asInserted))),
};
