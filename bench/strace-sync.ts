// The kernel's part of a synced batch (issue 15, wt-perf16): strace attached to a process (all its
// threads, only the syscalls named, filtered in the kernel by seccomp-bpf so the others run
// untraced) stamps each fdatasync/fsync/write with its start (CLOCK_REALTIME, µs) and duration.
// split() lays them over the batches a bench timed (on hrtime's clock, moved by an offset taken
// to the µs) and tells each batch's time in the kernel's sync from the rest (the write, the
// thread pool's hand-off both ways, the main thread's wake-up). Bench-only: strace's stops add
// tens of µs to every traced call, the same for every variant traced.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Wall-clock ms minus hrtime ms, to the µs (Date.now() has ms only). */
export const wallMinusHr = (): number => performance.timeOrigin + performance.now() - Number(process.hrtime.bigint()) / 1e6;

export interface Syscall { t: number; d: number; call: string; fd: number; ret: number }

export async function attachStrace(pid: number, out: string, calls = 'fdatasync,fsync,write,pwrite64'): Promise<{ stop: () => Promise<void> }> {
  const s: ChildProcess = spawn('strace', ['-f', '-ttt', '-T', '--seccomp-bpf', '-qq', '-e', `trace=${calls}`, '-o', out, '-p', String(pid)], { stdio: 'ignore' });
  // strace writes its first line once it has attached; give it the threads' attach time
  for (let i = 0; i < 200 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 200));
  return {
    stop: () => new Promise<void>((res) => {
      if (s.exitCode !== null) return res();
      s.once('exit', () => res());
      s.kill('SIGINT');
    }),
  };
}

/** Every completed call of the file (resumed ones joined to their start), wall ms. */
export function parseStrace(file: string): Syscall[] {
  const pend = new Map<string, { t: number; call: string; fd: number }>();
  const out: Syscall[] = [];
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    let m = /^(\d+)\s+([\d.]+) (\w+)\((\d+).*<unfinished \.\.\.>/.exec(l);
    if (m) { pend.set(m[1]!, { t: Number(m[2]) * 1000, call: m[3]!, fd: Number(m[4]) }); continue; }
    m = /^(\d+)\s+[\d.]+ <\.\.\. \w+ resumed>.*= (-?\d+).*<([\d.]+)>$/.exec(l);
    if (m) {
      const p = pend.get(m[1]!);
      if (p) { out.push({ ...p, ret: Number(m[2]), d: Number(m[3]) * 1000 }); pend.delete(m[1]!); }
      continue;
    }
    m = /^\d+\s+([\d.]+) (\w+)\((\d+).*= (-?\d+).*<([\d.]+)>$/.exec(l);
    if (m) out.push({ t: Number(m[1]) * 1000, call: m[2]!, fd: Number(m[3]), ret: Number(m[4]), d: Number(m[5]) * 1000 });
  }
  return out.sort((a, b) => a.t - b.t);
}

export interface Split { ms: number; sync: number; write: number; rest: number }

/**
 * Each batch [hrtime start ms, duration ms] with the fdatasync/fsync calls and the file writes
 * (`write` to a descriptor other than the eventfds: ret > 8) that started inside it.
 */
export function split(batches: [number, number][], off: number, calls: Syscall[]): Split[] {
  const syncs = calls.filter((c) => c.call === 'fdatasync' || c.call === 'fsync');
  const writes = calls.filter((c) => c.call === 'write' && c.ret > 8);
  const inside = (xs: Syscall[], a: number, b: number) => {
    let s = 0;
    for (const c of xs) if (c.t >= a && c.t < b) s += c.d;
    return s;
  };
  return batches.map(([t, d]) => {
    const a = t + off, b = a + d;
    const sync = inside(syncs, a, b), write = inside(writes, a, b);
    return { ms: d, sync, write, rest: d - sync - write };
  });
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN; };

/** A line per part, and which part is the larger in the slowest 1%. */
export function describe(name: string, xs: Split[]): string {
  const f = (x: number) => x.toFixed(2);
  const part = (k: keyof Split) => `${k} p50 ${f(pct(xs.map((x) => x[k]), 50))} p99 ${f(pct(xs.map((x) => x[k]), 99))}`;
  const p99 = pct(xs.map((x) => x.ms), 99);
  const slow = xs.filter((x) => x.ms >= p99);
  const bySync = slow.filter((x) => x.sync >= x.rest + x.write).length;
  const noSync = xs.filter((x) => x.sync === 0).length;
  return `${name}: ${part('ms')}; kernel ${part('sync')}, ${part('write')}; outside them ${part('rest')}; slowest 1% (${slow.length}): the kernel's sync the larger part in ${bySync}` +
    (noSync ? `; ${noSync} batches with no sync seen` : '');
}
