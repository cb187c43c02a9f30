// The log of a store another process holds, for `blockgraph tail --connect`. LevelDB admits
// one process per store, so the process serving QMP (`blockgraph qmp --log-socket PATH`) also
// serves its EventLog.tail() on a unix socket: the client sends one request line
// {"from": N}, the server answers with one JSON record per line, history from N then live
// appends (EventLog.tail guarantees no gap and no duplicate across that boundary). The
// connection ends when the store closes.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { Observable } from 'rxjs';
import { BlockgraphError, LogCorruptError } from '../errors/index.js';
import type { EventLog, LogRecord } from '../store/index.js';

export const LOG_SOCKET_PROTOCOL = 'blockgraph-log/1';

export function serveLogSocket(log: EventLog, path: string): Promise<Server> {
  rmSync(path, { force: true });
  const conns = new Set<Socket>();
  const server = createServer((sock) => {
    conns.add(sock);
    let buf = '';
    let started = false;
    const onData = (chunk: Buffer) => {
      if (started) return;
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > 4096) sock.destroy();
        return;
      }
      started = true;
      let from = 1;
      try {
        const req = JSON.parse(buf.slice(0, nl)) as { from?: unknown };
        if (req.from !== undefined) from = Number(req.from);
        if (!Number.isInteger(from) || from < 1) throw new Error('from');
      } catch {
        sock.end(JSON.stringify({ error: 'expected {"from": N} with N >= 1' }) + '\n');
        return;
      }
      sock.write(JSON.stringify({ protocol: LOG_SOCKET_PROTOCOL, head: log.head }) + '\n');
      const sub = log.tail(from).subscribe({
        next: (r) => { sock.write(JSON.stringify(r) + '\n'); },
        error: (e: unknown) => sock.end(JSON.stringify({ error: String((e as Error)?.message ?? e) }) + '\n'),
        complete: () => sock.end(),
      });
      sock.once('close', () => sub.unsubscribe());
    };
    sock.on('data', onData);
    sock.on('error', () => undefined);
    sock.once('close', () => conns.delete(sock));
  });
  const close = server.close.bind(server);
  // Closing the feed ends every follower too (a server's close() waits for open connections).
  server.close = ((cb?: (err?: Error) => void) => {
    for (const s of conns) s.end();
    const r = close(cb);
    rmSync(path, { force: true });
    return r;
  }) as typeof server.close;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

/**
 * Records from a log socket, from `from` on. Checks contiguity itself (a gap is reported as
 * BG_LOG_CORRUPT, not papered over); completes when the server closes the connection.
 */
export function connectLogSocket(path: string, from = 1, onOpen?: (head: number) => Error | undefined): Observable<LogRecord> {
  return new Observable<LogRecord>((sub) => {
    const sock = createConnection(path);
    let buf = '';
    let header = false;
    let last = from - 1;
    sock.on('connect', () => sock.write(JSON.stringify({ from }) + '\n'));
    sock.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.error) { sub.error(new BlockgraphError('BG_BAD_INPUT', `log socket: ${msg.error}`)); sock.destroy(); return; }
        if (!header) {
          if (msg.protocol !== LOG_SOCKET_PROTOCOL) { sub.error(new BlockgraphError('BG_BAD_INPUT', `${path} is not a blockgraph log socket`)); sock.destroy(); return; }
          header = true;
          // the caller's word on the head the feed announced (a refusal ends the subscription)
          const refused = onOpen?.(Number(msg.head));
          if (refused) { sub.error(refused); sock.destroy(); return; }
          continue;
        }
        const r = msg as unknown as LogRecord;
        if (r.seq <= last) continue;
        if (r.seq !== last + 1) { sub.error(new LogCorruptError(last + 1, `log socket sent seq ${r.seq} after ${last}`)); sock.destroy(); return; }
        last = r.seq;
        sub.next(r);
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => sub.error(new BlockgraphError('BG_NOT_FOUND', `cannot connect to log socket ${path}: ${e.code ?? e.message}`)));
    sock.on('close', () => sub.complete());
    return () => sock.destroy();
  });
}
