// qmp/: the QMP wire only. QEMU's monitor protocol on stdio and unix sockets (reader, writer,
// connections, servers) and the recording proxy in front of a real daemon. Command semantics live
// in commands/, recording and comparing in oracle/. May import commands/, engine/, store/.
export { listenQmp, serveQmp, type ServeOptions } from './server.js';
export { QmpWireClient, connectUnixSocket } from './wire.js';
