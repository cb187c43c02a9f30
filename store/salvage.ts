// `blockgraph repair`: works on every damage verify reports, and throws no record away.
//   1. Damage below the records (CURRENT/MANIFEST missing, a table LevelDB cannot read, a
//      missing table) -> LevelDB's own repair (leveldb/db/repair.cc RepairDB: replays every WAL
//      into tables, keeps every readable entry of every table, writes a new MANIFEST; files it
//      cannot use go to DIR/lost/, not away).
//   2. The longest verified prefix of the log is kept (verify.ts scanLog).
//   3. Every entry of the log after the break (and every stray key) is written to a quarantine
//      file, JSON lines, each with its verification status, fsynced before anything is deleted.
//      A record that verifies on its own (CRC, seq, and its hash over its own body) is intact
//      data the chain can no longer vouch for: the report counts them.
//   4. Damaged snapshots, and snapshots past the kept head, are dropped (they are derived data).
//   5. The anchor of the last synced head moves to the kept head; the report says how many
//      acknowledged records (seq <= the old anchor) are no longer in the log, how many of those
//      are in the quarantine file, and how many the damage destroyed.
// --dry-run does all of it on a private copy and reports; the store is not touched.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { LogLockedError, StorageIoError, StoreDamagedError } from '../errors/index.js';
import { readAnchor, writeAnchor, type Anchor } from './anchor.js';
import { checkSnapshots } from './check.js';
import { decodeRecord, encodeMeta, frameProblem, HEAD_KEY, headerHash, keySeq, linksTo, ownHashOf, storedPrevHash, type Sublevels, sublevelsOf, syncOption } from './codec.js';
import { inspectStoreDir, levelError, lockHeld, QUARANTINE_DIR } from './files.js';
import { copyStore } from './read-only.js';
import { scanLog } from './verify.js';
import { refuseForeign } from './foreign.js';

export interface StoreRepairReport {
  dryRun: boolean;
  /** Why LevelDB's own repair ran (or would run); absent when the files were readable. */
  levelDbRepair?: string;
  /** First problem in the records, as verify names it (absent: the records were sound). */
  firstBad?: number;
  reason?: string;
  /** Last seq kept and its hash. */
  head: number;
  headHash: string;
  /** Entries moved from the log to the quarantine file (records after the break, stray keys). */
  quarantined: number;
  /** Where they are (or would be, with --dry-run). */
  quarantineFile?: string;
  /** Quarantined records whose CRC, seq and own hash check out. */
  verifyOnTheirOwn: number;
  /** Of those, the ones whose prevHash links to the record before them. */
  chainIntact: number;
  snapshotsDropped: number;
  /** The anchor (last acknowledged seq) before repair, when there was one. */
  anchor?: number;
  anchorProblem?: string;
  /** Acknowledged seqs (<= anchor) no longer in the log after repair. */
  acknowledgedMissing: number;
  /** Of those, records saved in the quarantine file that verify on their own. */
  acknowledgedInQuarantine: number;
  /** Acknowledged records the damage destroyed: in neither the log nor the quarantine file. */
  acknowledgedLost: number;
  /** Kept for older callers: entries removed from the log (= quarantined). */
  dropped: number;
}

type Db = ClassicLevel<string, string>;

async function openDb(dir: string, location: string, hide?: string): Promise<Db> {
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  try {
    await db.open({ createIfMissing: false });
  } catch (e) {
    const c = (e as { cause?: { code?: unknown } }).cause?.code;
    if (c === 'LEVEL_LOCKED') throw new LogLockedError(location);
    throw levelError(e, location, hide);
  }
  return db;
}

/** Reads every entry once: LevelDB reports unreadable blocks only when they are read. */
async function readAllProblem(db: Db): Promise<string | undefined> {
  const it = db.iterator();
  try {
    for (;;) if ((await it.nextv(1000)).length === 0) return undefined;
  } catch (e) {
    return String((e as Error).message) + ((e as { cause?: Error }).cause ? `: ${(e as { cause: Error }).cause.message}` : '');
  } finally {
    await it.close().catch(() => undefined);
  }
}

function quarantinePath(location: string, firstBad: number): string {
  const dir = join(location, QUARANTINE_DIR);
  let p = join(dir, `from-seq-${firstBad}.jsonl`);
  for (let i = 2; existsSync(p); i++) p = join(dir, `from-seq-${firstBad}.${i}.jsonl`);
  return p;
}

interface QuarantineLine {
  key: string;
  seq: number | null;
  status: { crc: boolean; ownHash: boolean; chain: boolean; problem?: string };
  record?: unknown;
  raw: string;
}

/** The verification status of one entry after the break. */
function examine(key: string, value: string, prevHashOf: (seq: number) => string | undefined, claimedOf: (seq: number) => string | undefined): QuarantineLine {
  const seq = keySeq(key);
  if (Number.isNaN(seq)) return { key, seq: null, status: { crc: false, ownHash: false, chain: false, problem: 'not a seq key' }, raw: value };
  const frame = frameProblem(value, seq, true);
  if (frame !== undefined) return { key, seq, status: { crc: false, ownHash: false, chain: false, problem: frame }, raw: value };
  const before = prevHashOf(seq - 1);
  // Frame 1 stores the full prevHash; frame 2 a link to it, whose full value is record seq-1's
  // hash: the verified one, else the one record seq-1's sound frame claims (so a frame-2 record
  // right after a destroyed one cannot be checked on its own, but the ones after it can).
  const claimed = before ?? claimedOf(seq - 1);
  const prevHex = storedPrevHash(value) ?? (claimed !== undefined && linksTo(value, claimed) ? claimed : undefined);
  const ownHash = prevHex !== undefined && ownHashOf(value, prevHex) === headerHash(value);
  const chain = ownHash && before !== undefined && before === prevHex;
  const line: QuarantineLine = { key, seq, status: { crc: true, ownHash, chain }, raw: value };
  if (prevHex === undefined) line.status.problem = before === undefined ? `record ${seq - 1} is not there to link to` : `prevHash does not match record ${seq - 1}`;
  else if (!ownHash) line.status.problem = 'hash mismatch: record body does not match its hash';
  else if (!chain) line.status.problem = before === undefined ? `record ${seq - 1} is not there to link to` : `prevHash does not match record ${seq - 1}`;
  try {
    line.record = decodeRecord(value, seq, prevHex);
  } catch {
    // the raw text is kept either way
  }
  return line;
}

async function salvage(subs: Sublevels, location: string, anchor: Anchor | string | undefined, dryRun: boolean, report: StoreRepairReport): Promise<void> {
  const { result, goodHash } = await scanLog(subs);
  const keep = result.ok ? result.head : result.firstBad - 1;
  if (!result.ok) { report.firstBad = result.firstBad; report.reason = result.reason; }
  report.head = keep;
  report.headHash = goodHash;

  // Everything after the break, with its status; hashes of the kept head and of each
  // quarantined record that verifies on its own let the next one's link be checked.
  const lines: QuarantineLine[] = [];
  const hashes = new Map<number, string>([[keep, goodHash]]);
  const claimed = new Map<number, string>();
  const it = subs.log.iterator();
  try {
    for (;;) {
      const chunk = (await it.nextv(1000)) as [string, string][];
      if (chunk.length === 0) break;
      for (const [key, value] of chunk) {
        const seq = keySeq(key);
        if (!Number.isNaN(seq) && seq <= keep) continue;
        const line = examine(key, value, (s) => hashes.get(s), (s) => claimed.get(s));
        if (line.seq !== null && line.status.ownHash) hashes.set(line.seq, headerHash(value));
        if (line.seq !== null && line.status.crc) claimed.set(line.seq, headerHash(value));
        lines.push(line);
      }
    }
  } finally {
    await it.close();
  }
  report.quarantined = lines.length;
  report.dropped = lines.length;
  report.verifyOnTheirOwn = lines.filter((l) => l.status.ownHash).length;
  report.chainIntact = lines.filter((l) => l.status.chain).length;

  const snaps = await checkSnapshots(subs);
  const bad = new Set(snaps.damaged.map((d) => d.key ?? String(d.seq)));
  const snapKeys: string[] = [];
  for (const key of await subs.snap.keys().all()) {
    const seq = keySeq(key);
    if (Number.isNaN(seq) || seq > keep || bad.has(String(seq)) || bad.has(key)) snapKeys.push(key);
  }
  report.snapshotsDropped = snapKeys.length;

  if (typeof anchor === 'string') report.anchorProblem = anchor;
  else if (anchor) {
    report.anchor = anchor.seq;
    if (anchor.seq <= keep) {
      const rec = await subs.log.get(anchor.seq.toString(16).padStart(16, '0'));
      if (rec === undefined || headerHash(rec) !== anchor.hash) report.anchorProblem = `record ${anchor.seq} is not the one acknowledged`;
    }
    const missing = Math.max(0, anchor.seq - keep);
    report.acknowledgedMissing = missing;
    report.acknowledgedInQuarantine = lines.filter((l) => l.seq !== null && l.seq > keep && l.seq <= anchor.seq && l.status.ownHash).length;
    report.acknowledgedLost = missing - report.acknowledgedInQuarantine;
  }

  if (lines.length > 0) report.quarantineFile = quarantinePath(location, keep + 1);
  if (dryRun) return;

  if (lines.length > 0) {
    // The quarantine file is on disk (fsynced, directory too) before any record leaves the log.
    mkdirSync(join(location, QUARANTINE_DIR), { recursive: true });
    const fd = openSync(report.quarantineFile!, 'wx');
    try {
      writeSync(fd, JSON.stringify({ quarantine: 'blockgraph/1', keptHead: keep, keptHeadHash: goodHash, firstBad: report.firstBad ?? null, reason: report.reason ?? null, anchor: report.anchor ?? null }) + '\n');
      for (const l of lines) writeSync(fd, JSON.stringify(l) + '\n');
      fsyncSync(fd);
    } catch (e) {
      // Nothing has left the log yet: a half-written quarantine file is only noise.
      closeSync(fd);
      rmSync(report.quarantineFile!, { force: true });
      throw e;
    }
    closeSync(fd);
    const dfd = openSync(join(location, QUARANTINE_DIR), 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  }

  const ops: ({ type: 'del'; sublevel: typeof subs.log; key: string } | { type: 'put'; sublevel: typeof subs.log; key: string; value: string })[] = [];
  for (const l of lines) ops.push({ type: 'del', sublevel: subs.log, key: l.key });
  for (const key of snapKeys) ops.push({ type: 'del', sublevel: subs.snap, key });
  if (keep === 0) ops.push({ type: 'del', sublevel: subs.meta, key: HEAD_KEY });
  else ops.push({ type: 'put', sublevel: subs.meta, key: HEAD_KEY, value: encodeMeta({ seq: keep, hash: goodHash }) });
  await subs.root.batch(ops, syncOption(true));
}

/**
 * LevelDB's repair rewrites every WAL into a table and then archives the WAL to lost/ even if
 * the rewrite failed (leveldb/db/repair.cc ConvertLogFilesToTables: "ignoring conversion
 * error"), so on a disk without room for the tables the WAL's records would leave the store.
 * Refuse unless there is room for twice the WALs plus a margin.
 */
function preflightSpace(dir: string, location: string): void {
  let need = 1 << 20;
  for (const f of readdirSync(dir)) if (/^\d+\.log$/.test(f)) need += 2 * statSync(join(dir, f)).size;
  let free: number;
  try {
    const st = statfsSync(dir);
    free = Number(st.bavail) * Number(st.bsize);
  } catch {
    return; // cannot tell: let LevelDB try
  }
  if (free < need) throw new StorageIoError(location, `not enough free space for LevelDB's repair (needs about ${need} bytes, ${free} free): No space left on device`);
}

/**
 * Repairs the store at `location` (see the file comment). Refuses a store another process
 * holds (exit 4) and a path that is not a store (exit 2); LevelDB failures come back as
 * BlockgraphErrors with their cause, never as a stack.
 */
export async function repairStore(location: string, opts: { dryRun?: boolean } = {}): Promise<StoreRepairReport> {
  const dryRun = opts.dryRun === true;
  const { files, damage } = inspectStoreDir(location);
  if (lockHeld(location)) throw new LogLockedError(location);
  const work = dryRun ? copyStore(location, files, { prefix: 'bg-dry-' }) : location;
  const hide = dryRun ? work : undefined;
  const report: StoreRepairReport = {
    dryRun, head: 0, headHash: '', quarantined: 0, verifyOnTheirOwn: 0, chainIntact: 0, snapshotsDropped: 0,
    acknowledgedMissing: 0, acknowledgedInQuarantine: 0, acknowledgedLost: 0, dropped: 0,
  };
  // Read before anything moves: after repair it is rewritten.
  const anchor = readAnchor(location);
  try {
    let db: Db | undefined;
    let why = damage;
    if (!why) {
      try {
        db = await openDb(work, location, hide);
        why = await readAllProblem(db);
      } catch (e) {
        // A disk that refuses (full, read-only) is not damage: LevelDB's repair would make it
        // worse (RepairDB archives a WAL to lost/ even when converting it failed).
        if (e instanceof LogLockedError || e instanceof StorageIoError) throw e;
        why = (e as Error).message;
      }
      if (why && db) { await db.close(); db = undefined; }
      if (why && /No space left|ENOSPC|EDQUOT|Read-only file system|EROFS|EACCES|permission denied/i.test(why)) {
        throw new StorageIoError(location, hide ? why.split(hide).join(location) : why);
      }
    }
    if (why) {
      report.levelDbRepair = hide ? why.split(hide).join(location) : why;
      preflightSpace(work, location);
      try {
        await ClassicLevel.repair(work);
      } catch (e) {
        throw levelError(e, location, hide);
      }
      db = await openDb(work, location, hide);
      const still = await readAllProblem(db);
      if (still) { await db.close(); throw new StoreDamagedError(location, `LevelDB's repair could not make it readable: ${still}`); }
    }
    // another program's LevelDB is not salvaged (nor given an anchor file): store/foreign.ts
    try {
      await refuseForeign(db!);
    } catch (e) {
      await db!.close().catch(() => undefined);
      throw e;
    }
    try {
      await salvage(sublevelsOf(db!), location, anchor, dryRun, report);
    } catch (e) {
      throw levelError(e, location, hide);
    } finally {
      await db!.close().catch(() => undefined);
    }
    if (!dryRun) await writeAnchor(location, { seq: report.head, hash: report.headHash });
    return report;
  } finally {
    if (dryRun) rmSync(work, { recursive: true, force: true });
  }
}
