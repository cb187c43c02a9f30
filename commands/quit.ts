import type { CommandDef } from './types.js';

/**
 * quit: qemu-storage-daemon's qmp_quit() only sets exit_requested; the reply is {"return": {}} and
 * no SHUTDOWN event follows (checked on QSD 7.2.22). The server stops after answering it.
 */
export const quit: CommandDef = { name: 'quit', mutates: false, run: () => ({}) };
