// commands/vm/: the vm target's commands (issue 17) — a QEMU VM's guest devices, media, run state.
// Registered beside QSD's, but a process answers them only when it is a VM (meta.target 'vm',
// set by x-blockgraph-machine); on qemu-storage-daemon they stay CommandNotFound.
import type { CommandDef } from '../types.js';
import { deviceAdd } from './device-add.js';
import { deviceDel } from './device-del.js';
import { xBlockgraphMachine } from './machine.js';
import { mediaCommands } from './media.js';
import { blockSetIoThrottle } from './queries.js';
import { blockLatencyHistogramSet, queryPrManagers } from './latency-histogram.js';
import { cont, queryStatus, stop, systemPowerdown, systemReset } from './run-state.js';
import { humanMonitorCommand, SNAPSHOT_JOB_COMMANDS } from './snapshot-jobs.js';
import { MIGRATION_COMMANDS } from './migration.js';
import { MACHINE_LEVEL_COMMANDS, queryChardev, xBlockgraphMachineFacts } from './machine-level.js';
import { deviceListProperties, qomListProperties } from './qom-classes.js';

export { queryBlockVm } from './queries.js';

/** Commands only a VM has (QSD answers CommandNotFound). */
export const VM_COMMANDS: readonly CommandDef[] = [deviceAdd, deviceDel, ...mediaCommands, blockSetIoThrottle, blockLatencyHistogramSet, queryPrManagers, stop, cont, queryStatus, deviceListProperties, ...MACHINE_LEVEL_COMMANDS, ...SNAPSHOT_JOB_COMMANDS, systemReset, systemPowerdown, humanMonitorCommand, ...MIGRATION_COMMANDS];
export const VM_COMMAND_NAMES = new Set(VM_COMMANDS.map((c) => c.name));
export { xBlockgraphMachine, xBlockgraphMachineFacts, queryChardev, qomListProperties };
