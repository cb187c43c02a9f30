// The commands qemu-storage-daemon 7.2 has that the model does not carry out (chardevs, QOM
// introspection, backup, internal snapshots, image amendment…). Their arguments are
// still checked against QSD's schema, so malformed calls get QEMU's exact error; a well-formed
// call is refused with a blockgraph text (class GenericError), never with a made-up success.
import { QmpError } from '../errors/index.js';
import { QSD_RECORDING } from './qsd/recording.js';
import type { CommandDef } from './types.js';

export function unmodelledCommands(have: (name: string) => boolean): CommandDef[] {
  return QSD_RECORDING.commands.map((c) => c.name).filter((n) => !have(n)).map((name) => ({
    name,
    mutates: false,
    run: () => { throw new QmpError(`blockgraph: ${name} is not modelled (qemu-storage-daemon 7.2 has it; see docs/qmp.md)`); },
  }));
}
