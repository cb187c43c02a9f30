// The storage-fault matrix: real LevelDB stores written by the engine, damaged at the file
// level (truncate, zero, flip, delete: WAL, table, MANIFEST, CURRENT) or at the record level
// (a snapshot), then put through the CLI as a user would: verify, the read commands,
// repair --dry-run, repair, verify again. Per case: detected, what repair did, acknowledged
// records kept / quarantined / destroyed against the pristine store (not against what the
// code under test says), whether every loss was reported, exit codes, stack traces, and
// whether any read command changed a file. Shared by specs/store/faults.spec.ts (a quick
// subset, in-process) and scripts/fault-matrix.ts (every case, child processes).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync, openSync, writeSync, closeSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { main } from '../../cli/main.js';
import { Engine } from '../../engine/engine.js';
import { AnchorWriter, readAnchor } from '../../store/anchor.js';
import { headerHash, keySeq, sublevelsOf } from '../../store/codec.js';
import { EventLog } from '../../store/event-log.js';
import { openReadOnly } from '../../store/read-only.js';

export interface Pristine {
  dir: string;
  /** Acknowledged: the anchor's seq (the last synced head). */
  acked: number;
  head: number;
  hashes: string[]; // hashes[seq]
}

/**
 * A store as `blockgraph qmp` writes it (the Engine, synced decisions, the anchor, snapshots),
 * with a small write buffer so a few thousand records span several tables and a WAL.
 */
export async function makePristine(dir: string, commands: number, writeBufferSize = 64 * 1024): Promise<Pristine> {
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open({ createIfMissing: true, writeBufferSize } as object);
  const anchor = new AnchorWriter(dir);
  const log = await EventLog.open(db, { onSynced: (h, x) => anchor.advance(h, x) });
  let t = 0;
  const clock = () => new Date(Date.UTC(2026, 0, 1) + (t++) * 1000).toISOString();
  const engine = await Engine.open(log, { clock, snapshotEvery: 200 });
  for (let i = 0; i < commands; i++) {
    await engine.execute('host', 'x-blockgraph-image-create', { file: `img${i}.qcow2`, format: i % 2 ? 'qcow2' : 'raw', size: `${1 + (i % 7)}M` });
    if (i % 5 === 4) await engine.execute('host', 'no-such-command', {}); // a refusal record now and then
  }
  await log.close();
  const a = readAnchor(dir);
  if (typeof a !== 'object') throw new Error('pristine store has no anchor');
  const view = await openReadOnly(dir);
  const hashes: string[] = [''];
  for await (const r of view.read()) hashes[r.seq] = r.hash;
  const head = view.head;
  await view.close();
  return { dir, acked: a.seq, head, hashes };
}

// ---------------------------------------------------------------------------------------------
// Damage

export type Damage = (dir: string) => Promise<void> | void;

const files = (dir: string, re: RegExp) => readdirSync(dir).filter((f) => re.test(f)).sort();
function pick(dir: string, re: RegExp, which: 'first' | 'last' | 'largest'): string {
  const fs = files(dir, re);
  if (fs.length === 0) throw new Error(`no file matching ${re} in ${dir}`);
  if (which === 'first') return join(dir, fs[0]!);
  if (which === 'last') return join(dir, fs[fs.length - 1]!);
  return join(dir, fs.map((f) => [f, statSync(join(dir, f)).size] as const).sort((a, b) => b[1] - a[1])[0]![0]);
}

type Where = { re: RegExp; which: 'first' | 'last' | 'largest' };
const WAL: Where = { re: /^\d+\.log$/, which: 'largest' };
const TABLE_OLD: Where = { re: /^\d+\.ldb$/, which: 'first' };
const TABLE_NEW: Where = { re: /^\d+\.ldb$/, which: 'last' };
const TABLE_BIG: Where = { re: /^\d+\.ldb$/, which: 'largest' };
const MANIFEST: Where = { re: /^MANIFEST-\d+$/, which: 'last' };
const CURRENT: Where = { re: /^CURRENT$/, which: 'first' };
const ANCHOR: Where = { re: /^blockgraph-anchor$/, which: 'first' };

/** An offset: a fraction of the size, or bytes from the end when negative. */
const at = (size: number, off: number) => Math.max(0, Math.min(size - 1, off < 0 ? size + off : off < 1 ? Math.floor(size * off) : off));

export const truncateTo = (w: Where, off: number): Damage => (dir) => {
  const p = pick(dir, w.re, w.which);
  truncateSync(p, off === 0 ? 0 : at(statSync(p).size, off));
};
export const zero = (w: Where, off: number, len: number): Damage => (dir) => {
  const p = pick(dir, w.re, w.which);
  const size = statSync(p).size;
  const start = at(size, off);
  const fd = openSync(p, 'r+');
  try { writeSync(fd, Buffer.alloc(Math.min(len, size - start)), 0, Math.min(len, size - start), start); } finally { closeSync(fd); }
};
export const flip = (w: Where, off: number): Damage => (dir) => {
  const p = pick(dir, w.re, w.which);
  const pos = at(statSync(p).size, off);
  const fd = openSync(p, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, pos);
    b[0]! ^= 0x5a;
    writeSync(fd, b, 0, 1, pos);
  } finally { closeSync(fd); }
};
export const remove = (w: Where): Damage => (dir) => unlinkSync(pick(dir, w.re, w.which));
export const write = (w: Where, text: string): Damage => (dir) => writeFileSync(pick(dir, w.re, w.which), text);

/** Record-level damage to a snapshot, written through LevelDB as a torn value would be. */
export const snapshotDamage = (how: 'flip' | 'truncate' | 'foreign', which: 'newest' | 'all'): Damage => async (dir) => {
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open({ createIfMissing: false });
  try {
    const subs = sublevelsOf(db);
    const entries = await subs.snap.iterator().all();
    if (entries.length === 0) throw new Error('no snapshot to damage');
    const targets = which === 'newest' ? [entries[entries.length - 1]!] : entries;
    for (const [k, v] of targets) {
      let nv: string;
      if (how === 'flip') { const i = Math.floor(v.length / 2); nv = v.slice(0, i) + (v[i] === 'a' ? 'b' : 'a') + v.slice(i + 1); }
      else if (how === 'truncate') nv = v.slice(0, Math.floor(v.length / 3));
      else { const other = entries.find(([k2]) => k2 !== k); nv = other ? other[1] : v.slice(1); }
      await subs.snap.put(k, nv);
    }
  } finally {
    await db.close();
  }
};

export interface Case { name: string; damage: Damage; quick?: boolean }

export const CASES: Case[] = [
  { name: 'WAL truncated by 40%', damage: truncateTo(WAL, 0.6), quick: true },
  { name: 'WAL truncated to half', damage: truncateTo(WAL, 0.5) },
  { name: 'WAL truncated to 0 bytes', damage: truncateTo(WAL, 0) },
  { name: 'WAL last 16 KiB zeroed', damage: zero(WAL, -16384, 16384), quick: true },
  { name: 'WAL first 4 KiB zeroed', damage: zero(WAL, 0, 4096) },
  { name: 'WAL byte flipped at 10%', damage: flip(WAL, 0.1) },
  { name: 'WAL byte flipped at 50%', damage: flip(WAL, 0.5), quick: true },
  { name: 'WAL byte flipped 20 bytes before the end', damage: flip(WAL, -20) },
  { name: 'WAL deleted', damage: remove(WAL), quick: true },
  { name: 'table (newest) truncated to half', damage: truncateTo(TABLE_NEW, 0.5), quick: true },
  { name: 'table (oldest) truncated to 100 bytes', damage: truncateTo(TABLE_OLD, 100) },
  { name: 'table (largest) 4 KiB zeroed at 50%', damage: zero(TABLE_BIG, 0.5, 4096), quick: true },
  { name: 'table (oldest) byte flipped at 100', damage: flip(TABLE_OLD, 100) },
  { name: 'table (largest) byte flipped at 50%', damage: flip(TABLE_BIG, 0.5), quick: true },
  { name: 'table (newest) byte flipped in the footer', damage: flip(TABLE_NEW, -10), quick: true },
  { name: 'table (newest) deleted', damage: remove(TABLE_NEW), quick: true },
  { name: 'table (oldest) deleted', damage: remove(TABLE_OLD) },
  { name: 'MANIFEST truncated to half', damage: truncateTo(MANIFEST, 0.5) },
  { name: 'MANIFEST zeroed', damage: zero(MANIFEST, 0, 1 << 20), quick: true },
  { name: 'MANIFEST byte flipped at 50%', damage: flip(MANIFEST, 0.5) },
  { name: 'MANIFEST deleted', damage: remove(MANIFEST), quick: true },
  { name: 'CURRENT deleted', damage: remove(CURRENT), quick: true },
  { name: 'CURRENT emptied', damage: truncateTo(CURRENT, 0) },
  { name: 'CURRENT byte flipped', damage: flip(CURRENT, 3), quick: true },
  { name: 'CURRENT names a missing MANIFEST', damage: write(CURRENT, 'MANIFEST-999999\n') },
  { name: 'anchor file: a byte flipped in each slot', damage: async (d) => { await flip(ANCHOR, 30)(d); await flip(ANCHOR, 158)(d); } },
  { name: 'anchor file deleted', damage: remove(ANCHOR) },
  { name: 'snapshot (newest) byte flipped', damage: snapshotDamage('flip', 'newest'), quick: true },
  { name: 'snapshot (newest) truncated', damage: snapshotDamage('truncate', 'newest') },
  { name: 'every snapshot under another seq', damage: snapshotDamage('foreign', 'all') },
];

// ---------------------------------------------------------------------------------------------
// Running the CLI

export interface Ran { status: number; stdout: string; stderr: string }
export type Runner = (args: string[]) => Promise<Ran>;

/** The CLI in this process (fast: no tsx start-up per command). */
export const inProcess: Runner = async (args) => {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => { out.push(String(c)); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => { err.push(String(c)); return true; }) as typeof process.stderr.write;
  let status: number;
  try {
    status = await main(args);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = 0;
  }
  return { status, stdout: out.join(''), stderr: err.join('') };
};

/** The CLI as a user runs it. */
export const childProcess: Runner = async (args) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

const STACK = /\n\s+at .+\(.*:\d+:\d+\)|\n\s+at [^\s]+:\d+:\d+/;

/** name -> sha256 of every file under dir (subdirectories included). */
export function fileHashes(dir: string, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) for (const [k, v] of fileHashes(p, prefix + name + '/')) out.set(k, v);
    else out.set(prefix + name, createHash('sha256').update(readFileSync(p)).digest('hex'));
  }
  return out;
}

function sameFiles(a: Map<string, string>, b: Map<string, string>): string | undefined {
  for (const [k, v] of a) if (b.get(k) !== v) return b.has(k) ? `${k} changed` : `${k} removed`;
  for (const k of b.keys()) if (!a.has(k)) return `${k} added`;
  return undefined;
}

export interface Row {
  name: string;
  detected: boolean;
  verifyExit: number;
  readExits: string;       // show/log exit codes
  readChanged: string;     // '' or what changed
  repairExit: number;
  repairSummary: string;
  verifyAfterExit: number;
  ackedKept: number;
  ackedQuarantined: number;
  ackedDestroyed: number;
  reportedMissing: number; // repair's acknowledgedMissing
  reportedLost: number;    // repair's acknowledgedLost
  lossReported: boolean;   // the report matches what was really lost
  silentLoss: number;      // acknowledged records gone while verify said ok
  stackTraces: number;
  notes: string;
}

async function recordsAfterRepair(dir: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const log = await openReadOnly(dir);
  try {
    for await (const r of log.read()) out.set(r.seq, r.hash);
  } finally {
    await log.close();
  }
  return out;
}

function quarantined(dir: string): Map<number, string> {
  const out = new Map<number, string>();
  const q = join(dir, 'quarantine');
  if (!existsSync(q)) return out;
  for (const f of readdirSync(q)) {
    for (const line of readFileSync(join(q, f), 'utf8').split('\n')) {
      if (!line) continue;
      const l = JSON.parse(line) as { key?: string; raw?: string; status?: { ownHash?: boolean } };
      if (!l.key || typeof l.raw !== 'string' || !l.status?.ownHash) continue;
      const seq = keySeq(l.key);
      if (!Number.isNaN(seq)) out.set(seq, headerHash(l.raw));
    }
  }
  return out;
}

export async function runCase(c: Case, pristine: Pristine, work: string, run: Runner): Promise<Row> {
  rmSync(work, { recursive: true, force: true });
  cpSync(pristine.dir, work, { recursive: true });
  await c.damage(work);
  const before = fileHashes(work);
  const stacks: string[] = [];
  const cmd = async (...args: string[]) => {
    const r = await run([...args, '--db', work]);
    if (STACK.test(r.stderr) || STACK.test(r.stdout)) stacks.push(`${args[0]}: ${r.stderr.slice(0, 300)}`);
    return r;
  };
  const v = await cmd('verify', '--json');
  const show = await cmd('show');
  const log = await cmd('log');
  const audit = await cmd('audit');
  const dry = await cmd('repair', '--dry-run', '--json');
  const changed = sameFiles(before, fileHashes(work)) ?? '';
  const rep = await cmd('repair', '--json');
  const after = await cmd('verify');
  let report: Record<string, unknown> = {};
  try { report = JSON.parse(rep.stdout) as Record<string, unknown>; } catch { /* refused: no report */ }
  let dryReport: Record<string, unknown> = {};
  try { dryReport = JSON.parse(dry.stdout) as Record<string, unknown>; } catch { /* refused */ }

  // Ground truth: the pristine store's hashes, not what repair says.
  const N = pristine.acked;
  let kept = 0;
  let inQ = 0;
  let logAfter = new Map<number, string>();
  try { logAfter = await recordsAfterRepair(work); } catch { /* unrepaired store: nothing readable counts as kept */ }
  const q = quarantined(work);
  for (let s = 1; s <= N; s++) {
    if (logAfter.get(s) === pristine.hashes[s]) kept++;
    else if (q.get(s) === pristine.hashes[s]) inQ++;
  }
  const destroyed = N - kept - inQ;
  const reportedMissing = Number(report.acknowledgedMissing ?? NaN);
  const reportedLost = Number(report.acknowledgedLost ?? NaN);
  const lossReported = rep.status === 0 && reportedMissing === N - kept && reportedLost === destroyed;
  const detected = v.status !== 0;
  const notes: string[] = [];
  if (dry.status === 0 && (dryReport.head !== report.head || dryReport.quarantined !== report.quarantined)) notes.push(`dry-run differs from repair (kept 1..${dryReport.head} vs 1..${report.head}, quarantined ${dryReport.quarantined} vs ${report.quarantined})`);
  if (report.levelDbRepair) notes.push('LevelDB repair');
  if (Number(report.snapshotsDropped) > 0) notes.push(`${report.snapshotsDropped} snapshot(s) dropped`);
  return {
    name: c.name,
    detected,
    verifyExit: v.status,
    readExits: `${show.status}/${log.status}/${audit.status}`,
    readChanged: changed,
    repairExit: rep.status,
    repairSummary: rep.status === 0 ? `kept 1..${report.head}, quarantined ${report.quarantined} (${report.verifyOnTheirOwn} verify alone)` : rep.stderr.trim().split('\n')[0]!.slice(0, 80),
    verifyAfterExit: after.status,
    ackedKept: kept,
    ackedQuarantined: inQ,
    ackedDestroyed: destroyed,
    reportedMissing,
    reportedLost,
    lossReported,
    silentLoss: !detected ? N - kept : 0,
    stackTraces: stacks.length,
    notes: notes.join('; ') + (stacks.length ? ` STACK: ${stacks[0]}` : ''),
  };
}

export function markdownTable(rows: Row[], acked: number): string {
  const head = ['case', 'detected', 'verify', 'show/log/audit', 'read changed a file', 'repair', 'repair result', 'verify after', `acked kept (of ${acked})`, 'in quarantine', 'destroyed', 'reported lost', 'every loss reported', 'silent loss', 'stack traces'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    lines.push(`| ${[r.name, r.detected ? 'yes' : 'no', r.verifyExit, r.readExits, r.readChanged || 'no', r.repairExit, r.repairSummary + (r.notes ? `; ${r.notes}` : ''), r.verifyAfterExit, r.ackedKept, r.ackedQuarantined, r.ackedDestroyed, Number.isNaN(r.reportedLost) ? '-' : r.reportedLost, r.lossReported ? 'yes' : 'NO', r.silentLoss, r.stackTraces].join(' | ')} |`);
  }
  return lines.join('\n');
}
