// The NBD client driver (block/nbd.c, 7.2) against the model's own NBD servers: an `nbd` node
// connects to the server that one of the store's processes (this one or another) started with
// nbd-server-start on the same unix socket (or inet address), and negotiates one of its exports
// by name. The connection counts as a user of that export (blk_exp_ref per client), so the
// export cannot be deleted in mode 'safe' while the node exists.
import { QmpError } from '../errors/index.js';
import type { Proc } from './proc.js';
import { QemuHangRefusal } from './qemu-abort.js';
import { nbdTlsNegotiation } from './tls-creds.js';
import type { BlockExport } from './types.js';

export interface NbdTarget { proc: Proc; exp: BlockExport }

type Addr = { type?: string; path?: string; host?: string; cid?: string; port?: string | number; data?: { path?: string; host?: string; cid?: string; port?: string | number } };

/** The address an NBD server listens on, flattened (nbd-server-start takes SocketAddressLegacy). */
function flat(a: Addr | undefined): { type: string; path?: string; host?: string; port?: string } | null {
  if (!a || typeof a !== 'object') return null;
  const d = a.data ?? a;
  const type = String(a.type ?? '');
  return { type, ...(d.path !== undefined ? { path: String(d.path) } : {}), ...(d.host !== undefined ? { host: String(d.host) } : d.cid !== undefined ? { host: String(d.cid) } : {}), ...(d.port !== undefined ? { port: String(d.port) } : {}) };
}

/** The printable address nbd_client_connect's error names (unix: the path; inet: host:port). */
export function addrText(server: Addr): string {
  const s = flat(server);
  if (s?.type === 'unix') return String(s.path);
  if (s?.host !== undefined || s?.port !== undefined) return `${s.host ?? ''}:${s.port ?? ''}`;
  return s?.type ?? '';
}

/** nbd_refresh_filename */
export function nbdFilename(server: Addr, exportName: string | undefined): string {
  const s = flat(server);
  if (s?.type === 'unix') return exportName !== undefined ? `nbd+unix:///${exportName}?socket=${s.path}` : `nbd+unix://?socket=${s.path}`;
  if (s?.type === 'inet') return exportName !== undefined ? `nbd://${s.host}:${s.port}/${exportName}` : `nbd://${s.host}:${s.port}`;
  return '';
}

/** nbd_do_establish_connection + nbd_receive_negotiate: the server, then the export by name. */
export function nbdConnect(p: Proc, server: Addr, exportName: string | undefined, tls = false): NbdTarget {
  const want = flat(server);
  const procs = [p, ...p.others()];
  const host = procs.find((q) => {
    const have = flat(q.meta().nbd?.addr as Addr | undefined);
    if (!have || !want || have.type !== want.type) return false;
    return have.type === 'unix' ? have.path === want.path : have.host === want.host && have.port === want.port;
  });
  if (!host) {
    // socket_connect: connect(2) on a path nobody listens on
    const why = want?.type === 'unix' ? 'No such file or directory' : 'Connection refused';
    throw new QmpError(`Failed to connect to '${addrText(server)}': ${why}`);
  }
  // The daemon's own server: connect(2) succeeds (the listening socket queues it), then
  // nbd_open's nbd_do_establish_connection (a generated_co_wrapper, BDRV_POLL_WHILE on the
  // node's AioContext) waits for the server's greeting, which the server would send from the
  // listener's GSource in the main loop the poll does not run: the daemon never answers again,
  // nor dies of SIGTERM (live on QSD 7.2.22 and 10.0.2: combo-c5's nbd scenarios as first
  // written, a client of the same daemon's export). Refused as that hang.
  if (host.name === p.name) {
    throw new QemuHangRefusal(
      `NBD server '${addrText(server)}' is this daemon's own (QEMU hangs here: nbd_open -> nbd_do_establish_connection waits in ` +
      'BDRV_POLL_WHILE for a handshake its own main loop would send); refused by blockgraph: connect from another process',
      'nbd_do_establish_connection');
  }
  // nbd_start_negotiate / nbd_negotiate_options: TLS is settled before any export is asked for
  nbdTlsNegotiation(host.meta().nbd?.tls === true, tls);
  const name = exportName ?? '';
  const exp = host.exports().find((x) => x.type === 'nbd' && x.name === name);
  if (!exp) throw new QmpError('Requested export not available');
  return { proc: host, exp };
}

/** NBD client nodes (in any process of the store) connected to an export: its clients. */
export function nbdClientsOf(p: Proc, exportId: string): string[] {
  const out: string[] = [];
  for (const q of [p, ...p.others()]) {
    for (const n of q.nodes()) {
      const c = (n.extra as { nbd?: { proc: string; export: string } } | undefined)?.nbd;
      if (n.driver === 'nbd' && c && c.proc === p.name && c.export === exportId) out.push(`${q.name}/${n.name}`);
    }
  }
  return out;
}
