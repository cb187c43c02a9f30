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
import { crc32 } from 'node:zlib';
import { hash } from 'node:crypto';
import { Engine } from '../engine/engine.js';
import { indexKeys } from '../events/node-keys.js';
import { isWhole, stepsOf } from '../events/whole.js';
import { canonicalJson } from '../graph/hash.js';
import { skipTable } from '../store/redo-scan.js';
import { decodeIndexMeta, encodeIndexMeta, encodeMeta, encodeSnapshot, FORMAT3, FORMAT4, frameOf, hashOf, NIDX_KEY, recordBody2, recordParts3, seqKey, sublevelsOf, TEXT } from '../store/codec.js';
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
  /** Default true: after the first cycles, write the stored text from templates (checked against the slow path first). */
  fast?: boolean;
}

/** The first cycle the fast path writes (cycles before it go through encodeRecord; 3..FAST_FROM-1 check it). */
const FAST_FROM = 6;

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

/** Does this record end a command (its decision: a txn.decided, or a whole transaction, events/whole.ts)? */
const endsCommand = (r: { type: string; v?: number; data: unknown }): boolean => r.type === 'txn.decided' || isWhole(r as LogRecord);

/** The decision of a record that ends a command (the one carrying the state hash), if any. */
function decisionOf(r: { type: string; v?: number; data: unknown }): { ended?: { stateHash?: string } } | undefined {
  if (r.type === 'txn.decided') return r.data as { ended?: { stateHash?: string } };
  if (isWhole(r as LogRecord)) return (r.data as { decided: { ended?: { stateHash?: string } } }).decided;
  return undefined;
}

/** A record as appended, without what the builder computes (its time and state hash). */
function skeleton(r: LogRecord): string {
  const dec = decisionOf(r);
  const blank = (x: { ended?: { stateHash?: unknown } }) => ({ ...x, ended: { ...x.ended, stateHash: '' } });
  const d = !dec?.ended ? r.data : r.type === 'txn.decided' ? blank(dec) : { ...(r.data as object), decided: blank(dec) };
  return JSON.stringify({ stream: r.stream, type: r.type, v: r.v, txn: r.txn, causation: r.causation, data: d });
}

/** Text whose numbers are affine in the cycle: literal text between numbers, number i = a[i] + b[i]·(c − 1). */
interface Tpl { lits: string[]; a: number[]; b: number[] }

/** The template of a text from its cycle-1 and cycle-2 versions; throws where they differ other than in numbers. */
function template(t1: string, t2: string, what: string): Tpl {
  const s1 = t1.split(/(\d+)/);
  const s2 = t2.split(/(\d+)/);
  if (s1.length !== s2.length) throw new Error(`build-log: ${what} differs in shape between cycles`);
  const lits: string[] = [];
  const a: number[] = [];
  const b: number[] = [];
  let cur = '';
  for (let i = 0; i < s1.length; i++) {
    const x = s1[i]!;
    const y = s2[i]!;
    if (i % 2 === 0) {
      if (x !== y) throw new Error(`build-log: ${what} differs in text between cycles`);
      cur += x;
      continue;
    }
    if (x === y) { cur += x; continue; } // a number that does not change is text
    // A zero-padded number would not survive Number(): refuse rather than write a wrong record.
    if ((x.length > 1 && x[0] === '0') || (y.length > 1 && y[0] === '0')) throw new Error(`build-log: zero-padded number ${x}/${y} varies in ${what}`);
    lits.push(cur);
    cur = '';
    a.push(Number(x));
    b.push(Number(y) - Number(x));
  }
  lits.push(cur);
  return { lits, a, b };
}

function fillTpl(t: Tpl, c: number): string {
  let s = t.lits[0]!;
  const d = c - 1;
  for (let i = 0; i < t.a.length; i++) s += String(t.a[i]! + t.b[i]! * d) + t.lits[i + 1]!;
  return s;
}

/** One record of the cycle template (the slow path's): its envelope and data as a template, its time affine. */
interface Slot { tpl: Tpl; atA: number; atB: number }

function slotOf(one: LogRecord, two: LogRecord): Slot {
  const at1 = Date.parse(one.at);
  return { tpl: template(skeleton(one), skeleton(two), `record ${one.seq}`), atA: at1, atB: Date.parse(two.at) - at1 };
}

/** Record k of cycle `c` (c ≥ 1) from its slot, state hash left empty. */
function fill(slot: Slot, c: number): NewRecord {
  const d = c - 1;
  const r = JSON.parse(fillTpl(slot.tpl, c)) as NewRecord;
  r.at = new Date(slot.atA + slot.atB * d).toISOString();
  if (r.causation === undefined) delete r.causation;
  if (r.txn === undefined) delete r.txn;
  return r;
}

/** The engine's records for the prefix, and the per-record template of one cycle. */
interface Learned { prefix: LogRecord[]; slots: Slot[]; check: LogRecord[]; fast: FastSlot[] }

async function learn(base: number, snapshotEvery: number): Promise<Learned> {
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
  // The state after each command of cycles 1 and 2 (for the fast path's snapshots).
  const fold = emptyFold();
  const states = new Map<number, string>();
  for (const r of all) {
    foldRecord(fold, r);
    if (r.seq >= cycle1 && r.seq < cycle3 && endsCommand(r)) states.set(r.seq, JSON.stringify(fold.state));
  }
  const fast: FastSlot[] = [];
  for (let k = 0; k < per; k++) fast.push(fastSlotOf(all[cycle1 - 1 + k]!, all[cycle2 - 1 + k]!, states));
  netImages(fast);
  return { prefix: all.slice(0, cycle1 - 1), slots, check: all.slice(cycle3 - 1), fast };
}

// ---------------------------------------------------------------------------------------------
// The fast path: the stored text itself as a template. Per record: one fill, one sha256 (the
// chain), one crc32; per change one sha256 per image (the state digest, as graph/hash.ts
// entityDigest); no JSON parse or canonical encoding. It writes frame-2 and frame-3 values as
// store/codec.ts encodeRecord lays them out, so before it writes anything its output for three cycles is
// compared with what the slow path (encodeRecord, EventLog.appendNow) stored for them: any
// difference (a codec change, say) throws.

const AT = '\u0001';
const SH = '\u0002';
const MOD = 1n << 256n;
const NO_LINK = '0'.repeat(16);

interface FastSlot {
  // recordBody2 with the time as AT and the state hash as SH; for frame 3 (format version 5) the
  // redo and undo texts (recordParts3), whose lengths vary with the cycle's numbers
  body: Tpl[];
  /** The frame the record is written in: '2', '3' or '4' (format version 6: frame 3 and the redo part's skip table). */
  frame: string;
  atA: number; atB: number;
  idx: Tpl[];                // index keys (events/node-keys.ts indexKeys)
  minus: Tpl[]; plus: Tpl[]; // entityDigest inputs of the images a step removes / adds
  state?: Tpl;               // a decision: the state after its command
}

const imageText = (ch: Change, img: unknown) => ch.s + '\0' + ch.c + '\0' + ch.id + '\0' + canonicalJson(img);

function fastSlotOf(one: LogRecord, two: LogRecord, states: Map<number, string>): FastSlot {
  const marked = (r: LogRecord): string[] => {
    const n = asNew(r);
    const f = frameOf(n);
    const texts = f === FORMAT3 || f === FORMAT4 ? Object.values(recordParts3(n)) : [recordBody2(n)];
    const sh = decisionOf(r)?.ended?.stateHash;
    return texts.map((t) => {
      let body = t.split(r.at).join(AT);
      if (sh) body = body.split(sh).join(SH);
      return body;
    });
  };
  const what = `record ${one.seq}`;
  const k1 = indexKeys(one);
  const k2 = indexKeys(two);
  if (k1.length !== k2.length) throw new Error(`build-log: ${what}: index keys differ between cycles`);
  // a step's images, or a whole transaction's (events/whole.ts), in order
  const images = (r: LogRecord, side: 'before' | 'after') => stepsOf(r)
    .flatMap((st) => st.changes.filter((ch) => ch[side] !== null && ch[side] !== undefined).map((ch) => imageText(ch, ch[side])));
  const pair = (a: string[], b: string[]) => {
    if (a.length !== b.length) throw new Error(`build-log: ${what}: changes differ between cycles`);
    return a.map((x, i) => template(x, b[i]!, what));
  };
  const at1 = Date.parse(one.at);
  const out: FastSlot = {
    body: ((m1, m2) => {
      if (m1.length !== m2.length) throw new Error(`build-log: ${what}: frames differ between cycles`);
      return m1.map((t, i) => template(t, m2[i]!, what));
    })(marked(one), marked(two)),
    frame: frameOf(asNew(one)),
    atA: at1, atB: Date.parse(two.at) - at1,
    idx: pair(k1, k2), minus: pair(images(one, 'before'), images(two, 'before')), plus: pair(images(one, 'after'), images(two, 'after')),
  };
  if (endsCommand(one)) out.state = template(states.get(one.seq)!, states.get(two.seq)!, `state after ${one.seq}`);
  return out;
}

const sha = (s: string): bigint => BigInt('0x' + hash('sha256', s, 'hex'));

/**
 * The digest is a sum, so a command's images can be netted: an image one step adds and a later
 * step removes (the same text in both cycles, hence in every cycle) cancel. What is left moves
 * to the command's decision, which is where the state hash is needed; steps keep none.
 */
function netImages(slots: FastSlot[]): void {
  let minus: Tpl[] = [];
  let plus: Tpl[] = [];
  const same = (x: Tpl, y: Tpl) => fillTpl(x, 1) === fillTpl(y, 1) && fillTpl(x, 2) === fillTpl(y, 2);
  for (const sl of slots) {
    for (const m of sl.minus) {
      const i = plus.findIndex((p) => same(p, m));
      if (i >= 0) plus.splice(i, 1);
      else minus.push(m);
    }
    for (const p of sl.plus) {
      const i = minus.findIndex((m) => same(m, p));
      if (i >= 0) minus.splice(i, 1);
      else plus.push(p);
    }
    sl.minus = [];
    sl.plus = [];
    if (sl.state) { sl.minus = minus; sl.plus = plus; minus = []; plus = []; }
  }
  if (minus.length || plus.length) throw new Error('build-log: a cycle ends inside a command');
}
const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const hex12 = (n: number): string => n.toString(16).padStart(12, '0');

interface FastCursor { seq: number; hash: string; digest: bigint; lastSnapshot: number; snapshots: number }

/** Cycle c's records (and any snapshot due) as stored key/values, advancing `cur`. */
function fastCycle(slots: FastSlot[], c: number, cur: FastCursor, every: number, subs: ReturnType<typeof sublevelsOf>, emit: (key: string, value: string) => void): void {
  let d = cur.digest;
  for (const sl of slots) {
    const seq = cur.seq + 1;
    for (const t of sl.minus) d -= sha(fillTpl(t, c));
    for (const t of sl.plus) d += sha(fillTpl(t, c));
    const at = new Date(sl.atA + sl.atB * (c - 1)).toISOString();
    const parts = sl.body.map((t) => {
      const p = fillTpl(t, c).replace(AT, at);
      return sl.state ? p.replace(SH, digestHex(((d % MOD) + MOD) % MOD)) : p;
    });
    // frame 3: the redo part's length, the redo part, the undo part (store/codec.ts); frame 4:
    // the redo part's skip table after its length (the lengths vary with the cycle's numbers)
    const body = sl.frame === FORMAT4 ? hex8(parts[0]!.length) + skipTable(parts[0]!) + parts[0] + parts[1]
      : parts.length === 2 ? hex8(parts[0]!.length) + parts[0] + parts[1] : parts[0]!;
    const seqHex = hex12(seq);
    const h = hashOf(cur.hash, seqHex + body);
    const rest = sl.frame + seqHex + h + (cur.hash === '' ? NO_LINK : cur.hash.substring(0, 16)) + body;
    const sk = seqKey(seq);
    emit(subs.logPrefix + sk, hex8(crc32(rest)) + rest);
    for (const t of sl.idx) emit(subs.nidxPrefix + fillTpl(t, c) + sk, '');
    cur.seq = seq;
    cur.hash = h;
    if (!sl.state) continue;
    d = ((d % MOD) + MOD) % MOD;
    cur.digest = d;
    // Engine.maybeSnapshot's rule, after the command.
    if (seq - cur.lastSnapshot >= every) {
      cur.lastSnapshot = seq;
      cur.snapshots++;
      const state = JSON.parse(fillTpl(sl.state, c)) as unknown;
      emit(subs.snap.prefix + sk, encodeSnapshot({ seq, hash: h, stateHash: digestHex(d), state }));
    }
  }
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
  const { prefix, slots, check, fast } = await learn(opts.base ?? 40, every);

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
      if (after === undefined) for (const st of stepsOf(rec)) digest = digestApply(digest, st.changes);
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
    if (endsCommand(r) || r.type === 'command.rejected') { command(cmd); cmd = []; }
  }
  if (cmd.length) throw new Error('build-log: the prefix ends inside a command');
  if (digestHex(digest) !== digestHex(stateDigest(fold.state))) throw new Error('build-log: digest and state disagree after the prefix');

  // Slow path (encodeRecord through appendNow) for the first cycles; the cursor after cycle 2
  // is where the fast path's self-check starts.
  // One cycle through encodeRecord: each decision carries the state hash after its txn's steps (Engine.run).
  const slowCycle = (c: number): void => {
    for (let k = 0; k < slots.length; k++) {
      const r = fill(slots[k]!, c);
      cmd.push(r);
      if (!endsCommand(r)) continue;
      let d = digest;
      for (const s of cmd) for (const st of stepsOf(s as LogRecord)) d = digestApply(d, st.changes);
      (decisionOf(r) as { ended: { stateHash: string } }).ended.stateHash = digestHex(d);
      command(cmd, d);
      cmd = [];
    }
  };
  let at2: FastCursor | undefined;
  let c = 1;
  for (; fold.seq < opts.records && c <= FAST_FROM - 1; c++) {
    slowCycle(c);
    if (c === 2) at2 = { seq: fold.seq, hash: lastHash, digest, lastSnapshot, snapshots: 0 };
  }
  await flush();
  if (fold.seq >= opts.records || opts.fast === false) {
    for (; fold.seq < opts.records; c++) {
      slowCycle(c);
      if (sinceFlush >= flushEvery) await flush();
    }
    await flush();
    return { head: log.head, commands, snapshots, ms: performance.now() - t0 };
  }

  // The fast path must give back, key for key, what the slow path stored for cycles 3.. (a
  // snapshot only where the slow path wrote one too).
  const subs = sublevelsOf(log.db);
  const cur = at2!;
  for (let cc = 3; cc < c; cc++) {
    const got: Array<[string, string]> = [];
    fastCycle(fast, cc, cur, every, subs, (k, v) => got.push([k, v]));
    for (const [k, v] of got) {
      const stored = await subs.top.get(k, TEXT);
      if (stored !== v) throw new Error(`build-log: the fast path differs from the store at key ${JSON.stringify(k)} (cycle ${cc}): it would not write what the engine writes`);
    }
  }
  if (cur.seq !== fold.seq || cur.hash !== lastHash || cur.digest !== digest) throw new Error('build-log: the fast path lost its place');
  await log.close();

  // Fast: raw batches of the records, their index entries and snapshots, with the head and
  // index meta EventLog writes with every batch (#writeGroup).
  const db = log.db;
  const fresh = sublevelsOf(db);
  await db.open();
  const idx = decodeIndexMeta((await fresh.meta.get(NIDX_KEY)) ?? '');
  const from = idx?.from ?? 1;
  cur.lastSnapshot = lastSnapshot;
  cur.snapshots = 0;
  let ops: Array<{ type: 'put'; key: string; value: string }> = [];
  const write = async () => {
    ops.push({ type: 'put', key: fresh.metaHeadKey, value: encodeMeta({ seq: cur.seq, hash: cur.hash }) });
    ops.push({ type: 'put', key: fresh.metaNidxKey, value: encodeIndexMeta({ from, to: cur.seq, hash: cur.hash }) });
    await fresh.top.batch(ops, TEXT);
    ops = [];
    if (opts.onProgress && cur.seq - lastProgress >= 500_000) opts.onProgress((lastProgress = cur.seq));
  };
  let n = 0;
  for (; cur.seq < opts.records; c++) {
    fastCycle(fast, c, cur, every, fresh, (key, value) => { ops.push({ type: 'put', key, value }); });
    commands += fast.filter((f) => f.state).length;
    n += fast.length;
    if (n >= flushEvery) { await write(); n = 0; }
  }
  await write();
  await db.close();
  return { head: cur.seq, commands, snapshots: snapshots + cur.snapshots, ms: performance.now() - t0 };
}
