// The reference run of a drill: the scenario's calls on a memory backend (the model alone) and,
// in lockstep, on an engine over an in-memory log. The first gives the before- and after-state
// of every operation; the second the exact records (and batch boundaries) a crash can cut.
import { isWhole } from '../../events/whole.js';
import { intentEligible } from '../../engine/intent.js';
import { BlockgraphError } from '../../errors/index.js';
import { Engine, FIXED_CLOCK } from '../../engine/engine.js';
import { canonicalJson } from '../../graph/hash.js';
import { MemoryBackend } from '../../commands/model-host.js';
import { isWaitStep, type Scenario } from '../../oracle/format.js';
import { openMemory } from '../../store/index.js';
import type { AppendOptions, LogRecord, NewRecord } from '../../store/types.js';

/** One backend call: a scenario step, an image creation, or the job advance behind a `wait`. */
export interface DrillCall { proc: string; command: string; args: Record<string, unknown>; label: string }

/** A call that wrote records (mutating or refused): the unit a crash can interrupt. */
export interface DrillOp {
  index: number;
  call: number;
  label: string;
  command: string;
  first: number;            // seqs first..last are this op's records
  last: number;
  batchEnds: number[];      // last seq of each append (batch) of the op
  decided?: number;         // seq of txn.decided (commit), if the op is a transaction
  txn?: string;
  ok: boolean;              // reply was a return, not an error
  before: string;           // canonical JSON of the model state before / after
  after: string;
}

export interface Reference {
  calls: DrillCall[];
  ops: DrillOp[];
  opOfCall: (number | undefined)[];
  records: LogRecord[];
  /** The model state after 0..ops.length operations (canonical JSON). */
  states: string[];
}

const describe = (command: string, args: Record<string, unknown>): string => {
  const name = args['node-name'] ?? args['job-id'] ?? args.id ?? args.node ?? args.device ?? args.file;
  const driver = command === 'blockdev-add' && typeof args.driver === 'string' ? ` ${args.driver}` : '';
  return `${command}${driver}${typeof name === 'string' ? ` ${name}` : ''}`;
};

/** A scenario as backend calls: host facts and images first (as run-model creates them), `wait` as job advance. */
export function scenarioCalls(s: Scenario): DrillCall[] {
  const calls: DrillCall[] = [];
  // the host facts first, as run-model declares them (declareHost)
  if (s.host && Object.keys(s.host).length) calls.push({ proc: 'A', command: 'x-blockgraph-host', args: s.host as unknown as Record<string, unknown>, label: 'host' });
  calls.push(...s.images.map((im) => ({
    proc: 'A', command: 'x-blockgraph-image-create', args: im as unknown as Record<string, unknown>, label: `image ${im.file}`,
  })));
  // vm target: the machine (command-line objects, controllers, blockdevs, devices) is one logged command
  if (s.vm) calls.push({ proc: 'A', command: 'x-blockgraph-machine', args: s.vm as unknown as Record<string, unknown>, label: 'machine' });
  s.steps.forEach((st, i) => {
    const proc = st.proc ?? 'A';
    if (isWaitStep(st)) calls.push({ proc, command: 'x-blockgraph-job-advance', args: { id: st.wait.job, status: st.wait.status }, label: `step ${i} wait ${st.wait.job} ${st.wait.status}` });
    else calls.push({ proc, command: st.execute, args: (st.arguments ?? {}) as Record<string, unknown>, label: `step ${i} ${describe(st.execute, (st.arguments ?? {}) as Record<string, unknown>)}` });
  });
  return calls;
}

export async function referenceRun(calls: DrillCall[]): Promise<Reference> {
  const log = await openMemory();
  const batchEnds: number[] = [];
  const append = log.append.bind(log);
  log.append = async (records: NewRecord[], opts?: AppendOptions) => {
    const out = await append(records, opts);
    if (out.length) batchEnds.push(out.at(-1)!.seq);
    return out;
  };
  const appendNow = log.appendNow.bind(log);
  log.appendNow = (records: NewRecord[], opts?: AppendOptions) => {
    const r = appendNow(records, opts);
    if (r.records.length) batchEnds.push(r.records.at(-1)!.seq);
    return r;
  };
  const appendRawNow = log.appendRawNow.bind(log);
  log.appendRawNow = (records: NewRecord[], opts?: AppendOptions) => {
    const r = appendRawNow(records, opts);
    if (r.raws.length) batchEnds.push(r.raws.at(-1)!.seq);
    return r;
  };
  const engine = await Engine.open(log, { clock: FIXED_CLOCK });
  const mem = new MemoryBackend();
  const ops: DrillOp[] = [];
  const opOfCall: (number | undefined)[] = [];
  const states = [canonicalJson(mem.state)];
  try {
    for (const [i, c] of calls.entries()) {
      const before = canonicalJson(mem.state);
      const head = log.head;
      const m = await mem.execute(c.proc, c.command, c.args);
      const e = await engine.execute(c.proc, c.command, c.args);
      const after = canonicalJson(mem.state);
      if (canonicalJson(m.reply) !== canonicalJson(e.reply) || canonicalJson(engine.state) !== after) {
        throw new BlockgraphError('BG_REPLAY_DIVERGED', `${c.label}: the engine and the model disagree (reply or state)`, { call: i });
      }
      if (log.head === head) { opOfCall.push(undefined); continue; }
      const recs = await log.readAll({ gte: head + 1 });
      const decided = recs.find((r) => r.type === 'txn.decided' || isWhole(r)); // a whole transaction holds its decision
      opOfCall.push(ops.length);
      ops.push({
        index: ops.length, call: i, label: c.label, command: c.command, first: head + 1, last: log.head,
        batchEnds: batchEnds.filter((s) => s > head), decided: decided?.seq, txn: recs[0]!.txn,
        ok: !('error' in e.reply), before, after,
      });
      states.push(after);
    }
    return { calls, ops, opOfCall, records: await log.readAll(), states };
  } finally {
    await log.close();
  }
}

export type CrashKind = 'torn' | 'batch' | 'acked' | 'intent';

/**
 * Where a drill child kills itself: after record `afterSeq` is written, after call `afterAck` is
 * acknowledged, or (intentFirst) once call `afterIntent`'s intent is synced, before its record.
 */
export interface CrashPoint { op: number; kind: CrashKind; afterSeq?: number; afterAck?: number; afterIntent?: number }

/**
 * Every crash point of every operation: after each of its records (inside a batch: a torn batch
 * holding only a prefix; at a batch end: between batches) and after its reply was acknowledged.
 */
export function crashPoints(ref: Reference, opts: { intentFirst?: boolean } = {}): CrashPoint[] {
  const out: CrashPoint[] = [];
  for (const op of ref.ops) {
    // between the intent (synced) and the record: a command that goes intent first (engine/intent.ts)
    const c = ref.calls[op.call]!;
    if (opts.intentFirst && intentEligible(c.command, c.args)) out.push({ op: op.index, kind: 'intent', afterIntent: op.call });
    for (let s = op.first; s <= op.last; s++) out.push({ op: op.index, kind: op.batchEnds.includes(s) ? 'batch' : 'torn', afterSeq: s });
    out.push({ op: op.index, kind: 'acked', afterAck: op.call });
  }
  return out;
}
