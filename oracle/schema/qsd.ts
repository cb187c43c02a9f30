// A throwaway qemu-storage-daemon with a QMP monitor, for regenerating the table (gen-table.ts) and
// for the differential spec. Only used where the real QSD 7.2 is installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export type QsdReply = { ok: true; ret: unknown } | { ok: false; class: string; desc: string };

export function qsdAvailable(): boolean {
  const r = spawnSync('qemu-storage-daemon', ['--version'], { encoding: 'utf8' });
  return r.status === 0 && /version 7\.2\./.test(r.stdout);
}

export class Qsd {
  private constructor(private proc: ChildProcess, private sock: Socket, private dir: string,
    private replies: unknown[], private wake: { fn: (() => void) | null }) {}

  static async start(): Promise<Qsd> {
    const dir = mkdtempSync(join(tmpdir(), 'bg-qsd-'));
    const path = join(dir, 'm.sock');
    const proc = spawn('qemu-storage-daemon',
      ['--chardev', `socket,path=${path},server=on,wait=off,id=m`, '--monitor', 'chardev=m'],
      { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50));
    const sock = connect(path);
    const replies: unknown[] = [];
    const wake: { fn: (() => void) | null } = { fn: null };
    createInterface({ input: sock }).on('line', (l) => {
      const m = JSON.parse(l) as Record<string, unknown>;
      if ('event' in m) return;
      replies.push(m);
      const w = wake.fn; wake.fn = null; w?.();
    });
    const q = new Qsd(proc, sock, dir, replies, wake);
    await q.next(); // greeting
    await q.exec('qmp_capabilities');
    return q;
  }

  private async next(): Promise<Record<string, any>> {
    while (!this.replies.length) await new Promise<void>((r) => { this.wake.fn = r; });
    return this.replies.shift() as Record<string, any>;
  }

  /** Sends raw JSON text, so that callers control number spelling. */
  async execRaw(text: string): Promise<QsdReply> {
    this.sock.write(text + '\n');
    const r = await this.next();
    return r.error ? { ok: false, class: r.error.class, desc: r.error.desc } : { ok: true, ret: r.return };
  }

  exec(execute: string, args?: unknown): Promise<QsdReply> {
    return this.execRaw(JSON.stringify(args === undefined ? { execute } : { execute, arguments: args }));
  }

  async stop(): Promise<void> {
    this.sock.destroy();
    this.proc.kill();
    await new Promise((r) => this.proc.once('exit', r));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
