// QMP: the model's command entry point, its peers (in-memory, wire server), the real
// daemon, and the oracle toolkit.
export type { NamedBlockNode, QmpConnection, QmpErrorBody, QmpEvent, QmpReply, XDebugBlockGraph } from './connection.js';
export { executeCommand, type ExecResult } from './model.js';
export { MemoryBackend, ModelConnection, type ModelBackend } from './model-host.js';
export { runOnModel, createModelImages, MODEL_VERSION } from './run-model.js';
export { listenQmp, serveQmp, type ServeOptions } from './server.js';
export { QmpWireClient, connectUnixSocket } from './wire.js';
export { spawnQsd, qsdAvailable, createImagesWithQemuImg } from './qsd.js';
export { validateCommand } from './schema/index.js';
export * as oracle from './oracle/index.js';
