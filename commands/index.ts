// commands/: QMP command semantics. Each QMP command (one per file) validated against QSD 7.2's
// schema and turned into graph operations, QEMU's reply and its events. Pure: no I/O, no clock.
// May import graph/, machines/, events/, errors/; never qmp/, store/, engine/ or oracle/.
export type { NamedBlockNode, QmpConnection, QmpErrorBody, QmpEvent, QmpReply, XDebugBlockGraph } from './protocol.js';
export { executeCommand, type ExecResult } from './model.js';
export { MemoryBackend, ModelConnection, type ModelBackend } from './model-host.js';
export { validateCommand, COMMAND_NAMES, type ValidationResult } from './schema/index.js';
export { COMMANDS, type CommandCtx, type CommandDef } from './registry.js';
