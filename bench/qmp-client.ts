// The QMP client the benches drive both servers with: one request per line, replies matched by id.
import { connect, type Socket } from 'node:net';

export class Client {
  private buf = '';
  private waiting = new Map<number, (v: unknown) => void>();
  private greeted: Promise<void>;
  private nextId = 1;
  constructor(private readonly sock: Socket) {
    let greet!: () => void;
    this.greeted = new Promise((r) => (greet = r));
    sock.setEncoding('utf8');
    sock.on('data', (s: string) => {
      this.buf += s;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i).trim();
        this.buf = this.buf.slice(i + 1);
        if (!line) continue;
        const m = JSON.parse(line) as { QMP?: unknown; id?: number; event?: string };
        if (m.QMP) greet();
        else if (m.id !== undefined) { this.waiting.get(m.id)?.(m); this.waiting.delete(m.id); }
      }
    });
  }
  static async open(path: string): Promise<Client> {
    const sock = await new Promise<Socket>((res, rej) => { const s = connect(path, () => res(s)); s.once('error', rej); });
    const c = new Client(sock);
    await c.greeted;
    await c.cmd('qmp_capabilities');
    return c;
  }
  cmd(execute: string, args?: Record<string, unknown>): Promise<{ return?: unknown; error?: { desc: string } }> {
    const id = this.nextId++;
    return new Promise((res) => {
      this.waiting.set(id, res as (v: unknown) => void);
      this.sock.write(JSON.stringify({ execute, ...(args ? { arguments: args } : {}), id }) + '\n');
    });
  }
  close(): void { this.sock.destroy(); }
}
