// A fast, deterministic builder of a long, realistic log (issue 15: a 10M-record log to measure
// seek on; the engine-driven builder, bench/seek.ts buildLongLog, writes ~3k records per CPU
// second: 10M would take an hour of CPU).
//
// How: the engine itself runs a prefix (a base graph of `base` null-co nodes each under a raw
// node, then three cycles of add x / add raw r over x / del r / del x) on a memory store. Cycles
// 1 and 2 have the same records up to the numbers in them (node names x1/x2, txn ids, edge ids,
// the process's counters, times): each number that differs between the two is affine in the
// cycle number, so cycle c is the template with those numbers filled in. The template is checked
// against the engine's own cycle 3 before anything is written (a mismatch throws: the builder
// never writes a log the engine would not have written). What is not a number of the records is
// computed as the engine computes it: the state hash carried by each decision (graph/hash.ts
// digestApply over the steps, as Engine.run), the fold (replay/fold.ts foldRecord) and the
// snapshots (Engine.maybeSnapshot's rule: after a command, once `snapshotEvery` records have
// passed since the last one; the state, its seq's hash and the digest). Records go through
// EventLog.appendNow (the store's own encoding, index entries and head meta), so `verify` and
// `replay --verify` accept the log, and specs/store/build-log.spec.ts checks that the first
// cycles are byte for byte what the engine writes.
import { Engine } from '../engine/engine.js';
import { entityCount, PART_ENTITIES } from '../engine/snapshot-build.js';
import { digestApply, digestHex, stateDigest } from '../graph/hash.js';
import type { Change } from '../graph/draft.js';
import { emptyFold, foldRecord } from '../replay/fold.js';
import { openMemory, type EventLog, type LogRecord, type NewRecord } from '../store/index.js';

export interface BuildLogOptions {
  /** Stop after the first command that reaches this many records. */
  records: number;
  /** Pairs (null-co bN under raw rbN) in the base graph every cycle runs next to (default 40). */
  base?: number;
  /** The engine's snapshot cadence (default 1000, as `blockgraph qmp`). */
  snapshotEvery?: number;
  /** Records per awaited write (default 20,000): bounds memory; LevelDB writes one batch per group. */
  flushEvery?: number;
  onProgress?: (head: number) => void;
}

export interface BuildLogResult { head: number; commands: number; snapshots: number; ms: number }

const START = Date.parse('2026-01-01T00:00:00.000Z');

/** The engine's clock of the benches: +10 ms per reading. */
function benchClock(): () => string {
  let t = START;
  return () => new Date((t += 10)).toISOString();
}

function cycleCommands(c: number): Array<[string, Record<string, unknown>]> {
  return [
    ['blockdev-add', { driver: 'null-co', 'node-name': `x${c}` }],
    ['blockdev-add', { driver: 'raw', 'node-name': `r${c}`, file: `x${c}` }],
    ['blockdev-del', { 'node-name': `r${c}` }],
    ['blockdev-del', { 'node-name': `x${c}` }],
  ];
}

function baseCommands(n: number): Array<[string, Record<string, unknown>]> {
  const out: Array<[string, Record<string, unknown>]> = [];
  for (let i = 0; i < n; i++) {
    out.push(['blockdev-add', { driver: 'null-co', 'node-name': `b${i}` }]);
    out.push(['blockdev-add', { driver: 'raw', 'node-name': `rb${i}`, file: `b${i}` }]);
  }
  return out;
}

/** A record as appended, without what the builder computes (its time and state hash). */
function skeleton(r: LogRecord): string {
  const data = r.data as { ended?: { stateHash?: unknown } };
  const d = r.type === 'txn.decided' && data?.ended ? { ...data, ended: { ...data.ended, stateHash: '' } } : r.data;
  return JSON.stringify({ stream: r.stream, type: r.type, v: r.v, txn: r.txn, causation: r.causation, data: d });
}

/** One record of the cycle template: literal text between numbers, and each number as a + b·(c − 1). */
interface Slot { lits: string[]; a: number[]; b: number[]; atA: number; atB: number }

function slotOf(one: LogRecord, two: LogRecord): Slot {
  const s1 = skeleton(one).split(/(\d+)/);
  const s2 = skeleton(two).split(/(\d+)/);
  if (s1.length !== s2.length) throw new Error(`build-log: records ${one.seq} and ${two.seq} differ in shape`);
  const lits: string[] = [];
  const a: number[] = [];
  const b: number[] = [];
  let cur = '';
  for (let i = 0; i < s1.length; i++) {
    const x = s1[i]!;
    const y = s2[i]!;
    if (i % 2 === 0) {
      if (x !== y) throw new Error(`build-log: records ${one.seq} and ${two.seq} differ in text`);
      cur += x;
      continue;
    }
    if (x === y) { cur += x; continue; } // a number that does not change is text
    // A zero-padded number would not survive Number(): refuse rather than write a wrong record.
    if ((x.length > 1 && x[0] === '0') || (y.length > 1 && y[0] === '0')) throw new Error(`build-log: zero-padded number ${x}/${y} varies in record ${one.seq}`);
    lits.push(cur);
    cur = '';
    a.push(Number(x));
    b.push(Number(y) - Number(x));
  }
  lits.push(cur);
  const at1 = Date.parse(one.at);
  return { lits, a, b, atA: at1, atB: Date.parse(two.at) - at1 };
}

/** Record k of cycle `c` (c ≥ 1) from its slot, state hash left empty. */
function fill(slot: Slot, c: number): NewRecord {
  let s = slot.lits[0]!;
  const d = c - 1;
  for (let i = 0; i < slot.a.length; i++) s += String(slot.a[i]! + slot.b[i]! * d) + slot.lits[i + 1]!;
  const r = JSON.parse(s) as NewRecord;
  r.at = new Date(slot.atA + slot.atB * d).toISOString();
  if (r.causation === undefined) delete r.causation;
  if (r.txn === undefined) delete r.txn;
  return r;
}

/** The engine's records for the prefix, and the per-record template of one cycle. */
async function learn(base: number, snapshotEvery: number): Promise<{ prefix: LogRecord[]; cycle1: number; slots: Slot[]; check: LogRecord[] }> {
  const mem = await openMemory();
  const e = await Engine.open(mem, { clock: benchClock(), snapshotEvery });
  const run = async (cmds: Array<[string, Record<string, unknown>]>) => {
    for (const [cmd, args] of cmds) {
      const r = await e.execute('A', cmd, args);
      if ('error' in r.reply) throw new Error(`build-log: ${cmd} ${JSON.stringify(args)}: ${r.reply.error.desc}`);
    }
  };
  await run(baseCommands(base));
  await run(cycleCommands(0));
  const cycle1 = mem.head + 1;
  await run(cycleCommands(1));
  const cycle2 = mem.head + 1;
  await run(cycleCommands(2));
  const cycle3 = mem.head + 1;
  await run(cycleCommands(3));
  const all = await mem.readAll();
  await mem.close();
  const per = cycle2 - cycle1;
  if (cycle3 - cycle2 !== per || all.length - cycle3 + 1 !== per) throw new Error('build-log: cycles differ in length');
  const slots: Slot[] = [];
  for (let k = 0; k < per; k++) slots.push(slotOf(all[cycle1 - 1 + k]!, all[cycle2 - 1 + k]!));
  return { prefix: all.slice(0, cycle1 - 1), cycle1, slots, check: all.slice(cycle3 - 1) };
}

/** The envelope of a stored record, as the engine appended it. */
function asNew(r: LogRecord): NewRecord {
  const out: NewRecord = { stream: r.stream, type: r.type, v: r.v, at: r.at, data: r.data };
  if (r.txn !== undefined) out.txn = r.txn;
  if (r.causation !== undefined) out.causation = r.causation;
  return out;
}

/**
 * Writes a log of at least `records` records into `log` (empty, opened by the caller). The
 * same record shapes, times and snapshot cadence as the engine under bench/seek.ts's clock.
 */
export async function buildLog(log: EventLog, opts: BuildLogOptions): Promise<BuildLogResult> {
  if (log.head !== 0) throw new Error('build-log: the log must be empty');
  const t0 = performance.now();
  const every = opts.snapshotEvery ?? 1000;
  const flushEvery = opts.flushEvery ?? 20_000;
  const { prefix, slots, check } = await learn(opts.base ?? 40, every);

  // The template must give back the engine's cycle 3 exactly (state hashes aside: computed below).
  for (let k = 0; k < slots.length; k++) {
    const want = asNew(check[k]!);
    const got = fill(slots[k]!, 3);
    const strip = (r: NewRecord) => skeleton({ ...r, seq: 0, prevHash: '', hash: '' } as LogRecord) + r.at;
    if (strip(got) !== strip(want)) throw new Error(`build-log: the template does not give the engine's record ${check[k]!.seq}`);
  }

  const fold = emptyFold();
  let digest = 0n;
  let lastSnapshot = 0;
  let lastHash = '';
  let snapshots = 0;
  let commands = 0;
  let pending: Promise<unknown>[] = [];
  let sinceFlush = 0;
  let lastProgress = 0;

  // One command: its records appended (encoded at once), folded, then Engine.maybeSnapshot's rule.
  // `after`: the digest after the command when the caller has it already (else computed here).
  const command = (recs: NewRecord[], after?: bigint) => {
    const { records: out, durable } = log.appendNow(recs);
    pending.push(durable);
    for (const rec of out) {
      foldRecord(fold, rec);
      if (after === undefined && rec.type === 'txn.step') digest = digestApply(digest, (rec.data as { changes: Change[] }).changes);
    }
    if (after !== undefined) digest = after;
    lastHash = out[out.length - 1]!.hash;
    commands++;
    sinceFlush += out.length;
    if (fold.seq - lastSnapshot >= every && fold.open.size === 0) {
      lastSnapshot = fold.seq;
      if (entityCount(fold.state) > PART_ENTITIES) throw new Error('build-log: the state outgrew one-piece snapshots (use a smaller base)');
      pending.push(log.putSnapshot({ seq: fold.seq, hash: lastHash, stateHash: digestHex(digest), state: fold.state }));
      snapshots++;
    }
  };
  const flush = async () => {
    const p = pending;
    pending = [];
    sinceFlush = 0;
    await Promise.all(p);
    if (opts.onProgress && log.head - lastProgress >= 500_000) opts.onProgress((lastProgress = log.head));
  };

  // The prefix: the engine's own records, command by command (a command ends with its decision).
  let cmd: NewRecord[] = [];
  for (const r of prefix) {
    cmd.push(asNew(r));
    if (r.type === 'txn.decided' || r.type === 'command.rejected') { command(cmd); cmd = []; }
  }
  if (cmd.length) throw new Error('build-log: the prefix ends inside a command');
  if (digestHex(digest) !== digestHex(stateDigest(fold.state))) throw new Error('build-log: digest and state disagree after the prefix');

  for (let c = 1; fold.seq < opts.records; c++) {
    for (let k = 0; k < slots.length; k++) {
      const r = fill(slots[k]!, c);
      cmd.push(r);
      if (r.type !== 'txn.decided') continue;
      // The decision carries the state hash after the txn's steps (Engine.run).
      let d = digest;
      for (const s of cmd) if (s.type === 'txn.step') d = digestApply(d, (s.data as { changes: Change[] }).changes);
      (r.data as { ended: { stateHash: string } }).ended.stateHash = digestHex(d);
      command(cmd, d);
      cmd = [];
    }
    if (sinceFlush >= flushEvery) await flush();
  }
  await flush();
  return { head: log.head, commands, snapshots, ms: performance.now() - t0 };
}
