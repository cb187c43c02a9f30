// The QMP client of the hostile-* scripts: one exchange on a fresh connection.
import { existsSync } from 'node:fs';
import { connect } from 'node:net';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (30 s at most) for a server's socket file to appear. */
export async function waitForSocket(path: string): Promise<void> {
  for (let i = 0; i < 600 && !existsSync(path); i++) await sleep(50);
}

/** Connect, greeting, negotiation, each of `cmds`; resolves with their replies (events skipped). */
export function qmpExchange(path: string, cmds: string[], timeoutMs = 30_000): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let buf = '';
    const out: Record<string, unknown>[] = [];
    let sent = 0;
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no answer in ${timeoutMs} ms from ${path} (got ${out.length} lines)`)); }, timeoutMs);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i); buf = buf.slice(i + 2);
        const m = JSON.parse(line) as Record<string, unknown>;
        if ('event' in m) continue;
        out.push(m);
        if ('QMP' in m) { s.write('{"execute":"qmp_capabilities"}'); continue; }
        if (sent < cmds.length) s.write(cmds[sent++]!);
        else { clearTimeout(timer); s.end(); s.destroy(); resolve(out.slice(2)); }
      }
    });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    // a server that closes first (after the replies, resolve has already run: this does nothing)
    s.on('close', () => { clearTimeout(timer); reject(new Error(`closed by ${path} (got ${out.length} lines)`)); });
  });
}
