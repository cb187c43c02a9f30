// What an oracle run owns on the host: its temp directories (fuzz case and image dirs, recording
// dirs, the O_DIRECT probe's) and the QEMU processes it started in them. Stop 34 left 667,541
// directories (23 GB) on /dev/shm, a tmpfs: each is RAM until removed. Three ways leaked:
//  - a run killed by a signal with cases in flight (SIGKILL, OOM, a second SIGINT, SIGHUP): no
//    `finally` runs; QEMU does not end when its monitor's stdin closes (the chardev just sees
//    EOF), so its daemons lived on as orphans in the dead run's directories;
//  - a removal that raced a daemon still writing (ENOTEMPTY, swallowed);
//  - a directory made before the `try` that removes it.
// So every directory is named after its owner (`KIND-PID-XXXXXX`) and registered while it lives;
// every QEMU child is registered with the directory it runs in; a removal first ends (and awaits)
// the directory's processes; the CLIs' signal handlers end children and remove the live dirs
// synchronously (cleanupOwnedSync); and what no handler sees (SIGKILL, the OOM killer) the next
// run sweeps: directories whose owner pid is dead, after killing the QEMU processes still in them.
import type { ChildProcess } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** The kinds of directory an oracle run makes (the prefix before `-PID-`). */
export const OWNED_KINDS = ['bg-fuzz-img', 'bg-fuzz', 'blockgraph-rec', 'bg-align', 'blockgraph-facts', 'bg-oracle', 'bg-iotests', 'bg-aborts'] as const;
export type OwnedKind = (typeof OWNED_KINDS)[number];

const OWNED_NAME = new RegExp(`^(${OWNED_KINDS.join('|')})-(\\d+)-[A-Za-z0-9]{6}$`);
/** The same kinds as an older build named them, without an owner (never removed: see sweepStale). */
const UNOWNED_NAME = new RegExp(`^(${OWNED_KINDS.join('|')})-[A-Za-z0-9]{6}$`);

/** The owner pid a directory name carries (undefined: not an owned name, e.g. a pre-stop-35 `bg-fuzz-XXXXXX`). */
export function ownerOf(name: string): number | undefined {
  const m = OWNED_NAME.exec(name);
  return m ? Number(m[2]) : undefined;
}

const live = new Set<string>();
const children = new Map<ChildProcess, string>();

/** The directories this process made and has not removed yet. */
export function liveDirs(): string[] { return [...live]; }

/** mkdtemp of `root/KIND-PID-XXXXXX`, registered until `removeOwned`. */
export async function makeOwnedDir(root: string, kind: OwnedKind): Promise<string> {
  const dir = await mkdtemp(join(root, `${kind}-${process.pid}-`));
  live.add(dir);
  return dir;
}

export function makeOwnedDirSync(root: string, kind: OwnedKind): string {
  const dir = mkdtempSync(join(root, `${kind}-${process.pid}-`));
  live.add(dir);
  return dir;
}

/**
 * A QEMU process (or qemu-img) started with `cwd` in one of our directories: ended before that
 * directory is removed, and by cleanupOwnedSync. Deregistered when it exits.
 */
export function trackChild(child: ChildProcess, cwd: string): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  children.set(child, cwd);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
}

const inside = (path: string, dir: string) => path === dir || path.startsWith(dir + sep);

/** SIGKILLs the tracked processes running in `dir` and waits for their exit. */
export async function endChildrenIn(dir: string): Promise<void> {
  const mine = [...children].filter(([, cwd]) => inside(cwd, dir)).map(([c]) => c);
  await Promise.all(mine.map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) { resolve(); return; }
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  })));
}

/**
 * Removes one of our directories once no process of ours runs in it: a QEMU still writing (a
 * daemon whose close failed, or one whose start failed half-way) made `rm -r` fail with ENOTEMPTY.
 * Node's rm retries ENOTEMPTY/EBUSY itself with maxRetries. A failure is thrown, not swallowed:
 * the directory stays registered, so the exit cleanup tries again.
 */
export async function removeOwned(dir: string): Promise<void> {
  await endChildrenIn(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  live.delete(dir);
}

export function removeOwnedSync(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  live.delete(dir);
}

/**
 * For a signal handler or `process.on('exit')`: SIGKILLs every tracked QEMU child, then removes
 * every live directory, synchronously (no event loop turn is left). Returns what it could not remove.
 */
export function cleanupOwnedSync(): string[] {
  for (const c of children.keys()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  const failed: string[] = [];
  for (const dir of [...live]) {
    // a SIGKILLed process is gone before rm's retries run out
    try { removeOwnedSync(dir); } catch { failed.push(dir); }
  }
  return failed;
}

/** kill(pid, 0): ESRCH is a dead process; EPERM is a live one we may not signal. */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Bytes of the files under `path` (what a tmpfs held in RAM). */
function bytesUnder(path: string): number {
  try {
    const st = lstatSync(path);
    // allocated blocks, not the apparent size: the images are sparse
    if (!st.isDirectory()) return st.blocks * 512;
    return readdirSync(path).reduce((n, e) => n + bytesUnder(join(path, e)), 0);
  } catch { return 0; }
}

/**
 * The processes (from /proc) working under `root`, by the entry of root they are in, with their
 * executable: read once per sweep (a dead run can leave hundreds of thousands of directories).
 */
function processesUnder(root: string): Map<string, { pid: number; exe: string }[]> {
  const by = new Map<string, { pid: number; exe: string }[]>();
  let pids: string[];
  try { pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p)); } catch { return by; }
  for (const p of pids) {
    let cwd: string;
    try { cwd = readlinkSync(`/proc/${p}/cwd`).replace(/ \(deleted\)$/, ''); } catch { continue; }
    if (!cwd.startsWith(root + sep)) continue;
    const name = cwd.slice(root.length + 1).split(sep)[0]!;
    let exe = '';
    try { exe = readlinkSync(`/proc/${p}/exe`); } catch { try { exe = readFileSync(`/proc/${p}/comm`, 'utf8').trim(); } catch { /* gone */ } }
    by.set(name, [...(by.get(name) ?? []), { pid: Number(p), exe }]);
  }
  return by;
}

const isQemu = (exe: string) => /(^|\/)qemu-[^/]*$/.test(exe.replace(/ \(deleted\)$/, ''));

/** Alive and not a zombie (a killed child of ours stays one until the event loop reaps it). */
function running(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try { return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

function waitGone(pids: number[], ms: number): void {
  const until = Date.now() + ms;
  const shared = new Int32Array(new SharedArrayBuffer(4));
  while (pids.some(running) && Date.now() < until) Atomics.wait(shared, 0, 0, 20);
}

export interface SweepResult {
  /** Directories removed (their owner pid was dead). */
  removed: string[];
  bytes: number;
  /** Owner pids of the removed directories. */
  owners: number[];
  /** Orphaned QEMU processes killed in them first. */
  killed: number[];
  /** Stale directories kept: a process other than QEMU still works in them. */
  kept: string[];
  /** Directories of these kinds without an owner pid (an older build's): left, counted. */
  unowned: string[];
}

/**
 * Removes, in each root, the owned directories whose owner pid is dead (a run that SIGKILL or the
 * OOM killer ended): first SIGKILL the QEMU processes still running in them (orphans: QEMU outlives
 * the run whose pipes it reads), then the directory. A directory of a live pid is never touched,
 * nor one without an owner in its name (it may be a live run of an older build), nor one where a
 * process that is not QEMU works.
 */
export function sweepStale(roots: string[]): SweepResult {
  const res: SweepResult = { removed: [], bytes: 0, owners: [], killed: [], kept: [], unowned: [] };
  for (const root of new Set(roots)) {
    let names: string[];
    try { names = readdirSync(root); } catch { continue; }
    let working: Map<string, { pid: number; exe: string }[]> | undefined;
    const alive = new Map<number, boolean>();
    for (const name of names) {
      const owner = ownerOf(name);
      if (owner === undefined && UNOWNED_NAME.test(name)) res.unowned.push(join(root, name));
      if (owner === undefined || owner === process.pid) continue;
      if (!alive.has(owner)) alive.set(owner, pidAlive(owner));
      if (alive.get(owner)) continue;
      const dir = join(root, name);
      working ??= processesUnder(root);
      const procs = working.get(name) ?? [];
      if (procs.some((p) => !isQemu(p.exe))) { res.kept.push(dir); continue; }
      for (const p of procs) { try { process.kill(p.pid, 'SIGKILL'); res.killed.push(p.pid); } catch { /* already gone */ } }
      waitGone(procs.map((p) => p.pid), 5000);
      const bytes = bytesUnder(dir);
      try { rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }); } catch { res.kept.push(dir); continue; }
      res.removed.push(dir);
      res.bytes += bytes;
      if (!res.owners.includes(owner)) res.owners.push(owner);
    }
  }
  return res;
}

/** The warning line a CLI prints for a sweep that removed or left something (nothing otherwise). */
export function sweepMessage(who: string, r: SweepResult): string | undefined {
  const parts: string[] = [];
  if (r.removed.length) {
    parts.push(`removed ${r.removed.length} stale temp director${r.removed.length === 1 ? 'y' : 'ies'} (${r.bytes} bytes, ${(r.bytes / 1e6).toFixed(1)} MB) of dead runs (pid ${r.owners.join(', ')})`);
  }
  if (r.killed.length) parts.push(`killed ${r.killed.length} orphaned QEMU process${r.killed.length === 1 ? '' : 'es'} in them`);
  if (r.kept.length) parts.push(`kept ${r.kept.length} of dead runs where another process works: ${r.kept.slice(0, 3).join(', ')}`);
  // an older build's directories have no owner in their name: one may be a live run's
  if (r.unowned.length) parts.push(`left ${r.unowned.length} of an older blockgraph (no owner pid in the name, e.g. ${r.unowned[0]}): remove them when no run of that build is going`);
  return parts.length ? `${who}: warning: ${parts.join('; ')}` : undefined;
}
