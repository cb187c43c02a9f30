// QMP in client mode: the server connects out to a client listening on a unix socket, as
// qemu-storage-daemon does with `--chardev socket,path=P,server=off --monitor chardev=ID` (what
// qemu.qmp's QMPClient.accept() and libvirt-style harnesses listen for). One connection at a
// time, one monitor session on it, as QEMU's client chardev holds one. QEMU's rules
// (chardev/char-socket.c):
// - without `reconnect`, the first connect is made at start and its failure is fatal
//   (qmp_chardev_open_socket_client -> tcp_chr_connect_client_sync: QSD exits 1 with
//   "Failed to connect to 'P': <strerror>", util/qemu-sockets.c unix_connect_saddr); a
//   connection that ends is not made again (tcp_chr_disconnect_locked: no timer), the process
//   runs on without a monitor client;
// - with `reconnect=N` (seconds), the connect is tried at start and, while it fails, every N s
//   (tcp_chr_connect_client_async, socket_reconnect_timeout); the failure is reported once until
//   a connect succeeds (check_report_connect_error: "Unable to connect character device ID: …",
//   connect_err_reported); a connection that ends is made again N s later
//   (tcp_chr_disconnect_locked -> qemu_chr_socket_restart_timer).
import { connect, type Socket } from 'node:net';
import { constants } from 'node:os';
import type { ModelBackend } from '../commands/model-host.js';
import { BlockgraphError } from '../errors/index.js';
import { QmpSession } from './session.js';
import { flushThenDestroy, host, unixSocketPath, type ServeOptions } from './server.js';

export interface ConnectOptions extends ServeOptions {
  /** Seconds between connect attempts, and before connecting again after a connection ends (0: never again). */
  reconnect?: number;
}

export interface QmpClientLink {
  /** The session on the current connection, if one is up. */
  readonly session: QmpSession | undefined;
  /** Connections made so far. */
  readonly connections: number;
  /** Stop: no more attempts; the session answers the request in progress, then closes. */
  stop(): Promise<void>;
}

/** sizeof(struct sockaddr_un.sun_path) on Linux: QEMU refuses a longer path before connecting. */
const SUN_PATH = 108;

// strerror(3) texts (glibc) of the errors a unix-socket connect(2) gives; error_setg_errno
// appends them after ": ".
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EAGAIN: 'Resource temporarily unavailable',
  EPROTOTYPE: 'Protocol wrong type for socket',
  ECONNRESET: 'Connection reset by peer',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
};

/** QEMU's text for a failed connect to `path` (unix_connect_saddr). */
export function connectErrorText(path: string, e: NodeJS.ErrnoException): string {
  if (Buffer.byteLength(path) > SUN_PATH) return `UNIX socket path '${path}' is too long`;
  const code = e.code ?? '';
  const text = STRERROR[code] ?? (code in constants.errno ? code : String(e.message));
  return `Failed to connect to '${path}': ${text}`;
}

/** One connect(2) to `path`: the socket once connected, or QEMU's error text. */
function connectOnce(path: string): Promise<{ sock: Socket } | { error: string }> {
  if (Buffer.byteLength(path) > SUN_PATH) return Promise.resolve({ error: connectErrorText(path, {} as NodeJS.ErrnoException) });
  return new Promise((resolve) => {
    const sock = connect({ path: unixSocketPath(path), allowHalfOpen: true });
    const fail = (e: NodeJS.ErrnoException) => { sock.destroy(); resolve({ error: connectErrorText(path, e) }); };
    sock.once('error', fail);
    sock.once('connect', () => { sock.off('error', fail); resolve({ sock }); });
  });
}

/**
 * Connects to the QMP client listening on `path` and serves a monitor session on the connection.
 * Without `reconnect`, rejects (with QEMU's text) when the first connect fails.
 */
export async function connectQmp(backend: ModelBackend, path: string, opts: ConnectOptions = {}): Promise<QmpClientLink> {
  const sessions = new Set<QmpSession>();
  const h = host(backend, opts, sessions);
  const every = opts.reconnect ?? 0;
  let session: QmpSession | undefined;
  let connections = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let reported = false; // connect_err_reported

  const serve = (sock: Socket) => {
    sock.on('error', () => undefined); // ECONNRESET/EPIPE end the session, never the server
    reported = false;
    connections++;
    const s = new QmpSession(h, sock, sock);
    session = s;
    sessions.add(s);
    void s.done.then(() => {
      sessions.delete(s);
      if (session === s) session = undefined;
      // stopping: the last replies leave first (a client that does not read them, bounded)
      if (stopped) return void flushThenDestroy(sock, opts.stopGraceMs ?? 1000);
      sock.destroy();
      if (every > 0) {
        h.note(`QMP client on ${path} went away; connecting again in ${every} s`);
        later();
      } else {
        h.note(`QMP client on ${path} went away; not connecting again (no --reconnect), serving no client`);
      }
    });
  };
  const attempt = async () => {
    timer = undefined;
    if (stopped) return;
    const r = await connectOnce(path);
    if (stopped) { if ('sock' in r) r.sock.destroy(); return; }
    if ('sock' in r) return serve(r.sock);
    if (!reported) h.note(`Unable to connect QMP to ${path}: ${r.error}`);
    reported = true;
    later();
  };
  const later = () => { timer = setTimeout(() => { void attempt(); }, every * 1000); };

  if (every > 0) void attempt();
  else {
    const r = await connectOnce(path);
    if ('error' in r) throw new BlockgraphError('BG_BAD_INPUT', `cannot connect to a QMP client: ${r.error}`);
    serve(r.sock);
  }

  return {
    get session() { return session; },
    get connections() { return connections; },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const all = [...sessions];
      for (const s of all) s.stop();
      await Promise.all(all.map((s) => s.done));
    },
  };
}
