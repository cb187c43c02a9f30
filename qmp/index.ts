// qmp/: the QMP wire only. QEMU's monitor protocol on stdio and unix sockets (reader, writer,
// sessions, servers) and the recording proxy in front of a real daemon. Command semantics live
// in commands/, recording and comparing in oracle/. May import commands/, engine/, store/.
export { listenQmp, serveQmp, type QmpServer, type ServeOptions } from './server.js';
export { connectQmp, type ConnectOptions, type QmpClientLink } from './connect.js';
export { QmpSession, DEFAULT_SESSION_LIMITS, type SessionLimits } from './session.js';
export { JsonMessageReader, QEMU_JSON_LIMITS, type JsonLimits, type JsonMessage, type JsonValue } from './json-reader.js';
export { toQmpJson, formatG17, quoteString } from './json-writer.js';
export { decodeRequest, type QmpRequest } from './request.js';
export { QmpWireClient, connectUnixSocket } from './wire.js';
