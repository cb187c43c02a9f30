// blockgraph/testing: given/when/then for tests of block-graph behaviour. A trial runs on an
// in-memory store with the real engine (so every `when` is logged and folded exactly as in
// production), seeded from a fixture, a recorded log, a scenario or a list of commands.
//
//   const t = await given.commands([['blockdev-add', {driver: 'null-co', 'node-name': 'n0'}]]);
//   await t.when('blockdev-del', {'node-name': 'n0'});
//   t.then.ok(); t.then.invariantsHold();
//
// May import every library folder (engine/, store/, replay/, oracle/ for scenarios and the
// shipped transcripts); nothing in the library imports testing/.
//
// Every assertion throws node's AssertionError with a message that says what was expected,
// what was found, and (for state assertions) which entities changed.
import { AssertionError } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Engine, FIXED_CLOCK } from '../engine/engine.js';
import { BlockgraphError } from '../errors/index.js';
import { endsTxn } from '../events/ends.js';
import { partsOf } from '../events/whole.js';
import { canonicalJson, stateHash } from '../graph/hash.js';
import { checkInvariants } from '../graph/invariants.js';
import { permList } from '../graph/perm.js';
import type { BdsNode, Edge, State } from '../graph/types.js';
import type { QmpReply } from '../commands/protocol.js';
import { parseScenario } from '../oracle/format.js';
import { TRANSCRIPTS_DIR } from '../oracle/paths.js';
import { runOnModel } from '../oracle/run-model.js';
import { exportFixture, importFixture, parseFixture, type Fixture } from '../replay/fixture.js';
import { openClassic, openMemory, type EventLog, type LogRecord } from '../store/index.js';
import { diffStates } from './state-diff.js';

export { diffStates } from './state-diff.js';

export type CommandSpec =
  | readonly [command: string, args?: Record<string, unknown>]
  | { execute: string; arguments?: Record<string, unknown>; proc?: string };

export interface GivenOptions {
  /** The QEMU process `when` and the commands run as (default "A"). */
  proc?: string;
  /** The engine's clock (default: the fixed epoch clock, so logs are reproducible). */
  clock?: () => string;
}

interface LastWhen {
  command: string;
  args: Record<string, unknown>;
  proc: string;
  reply: QmpReply;
  before: State;
  records: LogRecord[];
}

function fail(message: string, actual?: unknown, expected?: unknown): never {
  throw new AssertionError({ message, actual, expected, operator: 'blockgraph' });
}

const fmt = (v: unknown) => canonicalJson(v);
const replyText = (r: QmpReply) => ('error' in r ? `error ${r.error.class}: '${r.error.desc}'` : 'ok');

export class Trial {
  private lastWhen?: LastWhen;
  readonly then: Then;

  constructor(readonly engine: Engine, readonly log: EventLog, readonly proc: string) {
    this.then = new Then(this);
  }

  get state(): State { return this.engine.state; }

  /** The last `when`; throws when there was none. */
  get last(): LastWhen {
    if (!this.lastWhen) throw new Error('blockgraph/testing: then.* needs a when(...) first');
    return this.lastWhen;
  }

  /** Runs one command through the engine and keeps its reply and the records it wrote. */
  async when(command: string, args: Record<string, unknown> = {}, opts: { proc?: string } = {}): Promise<QmpReply> {
    const proc = opts.proc ?? this.proc;
    const before = structuredClone(this.engine.state);
    const head = this.log.head;
    const r = await this.engine.execute(proc, command, args);
    const records = this.log.head > head ? await this.log.readAll({ gte: head + 1 }) : [];
    this.lastWhen = { command, args, proc, reply: r.reply, before, records };
    return r.reply;
  }

  async close(): Promise<void> {
    await this.log.close();
  }
}

export class NodeAssertion {
  constructor(private readonly t: Trial, private readonly name: string, private readonly proc: string) {}
  private get node(): BdsNode | undefined { return this.t.state[this.proc]?.nodes?.[this.name] as BdsNode | undefined; }

  exists(): BdsNode {
    const n = this.node;
    if (!n) fail(`expected node '${this.name}' in ${this.proc}, but there is none (nodes: ${Object.keys(this.t.state[this.proc]?.nodes ?? {}).join(', ') || 'none'})`);
    return n;
  }

  absent(): void {
    if (this.node) fail(`expected no node '${this.name}' in ${this.proc}, but it exists: ${fmt(this.node)}`);
  }

  /** Each given field equals the node's (deep equality per field; other fields are not looked at). */
  is(props: Partial<BdsNode>): void {
    const n = this.exists() as unknown as Record<string, unknown>;
    const bad = Object.entries(props).filter(([k, v]) => fmt(n[k] ?? null) !== fmt(v ?? null));
    if (bad.length) {
      fail(`node '${this.name}' in ${this.proc}: ${bad.map(([k, v]) => `expected ${k} ${fmt(v)}, got ${fmt(n[k] ?? null)}`).join('; ')}`,
        Object.fromEntries(bad.map(([k]) => [k, n[k]])), Object.fromEntries(bad));
    }
  }
}

export interface EdgeProps {
  child?: string;
  /** QAPI names (`consistent-read`, `write`, `write-unchanged`, `resize`), compared as a set. */
  perm?: readonly string[];
  shared?: readonly string[];
  frozen?: boolean;
}

export class EdgeAssertion {
  constructor(private readonly t: Trial, private readonly parent: string, private readonly name: string, private readonly proc: string) {}

  private find(): Edge | undefined {
    const edges = Object.values(this.t.state[this.proc]?.edges ?? {}) as Edge[];
    return edges.find((e) => e.name === this.name && (
      (e.parent.kind === 'node' && e.parent.node === this.parent)
      || (e.parent.kind === 'bb' && e.parent.bb === this.parent)
      || (e.parent.kind === 'job' && e.parent.job === this.parent)));
  }

  exists(): Edge {
    const e = this.find();
    if (!e) fail(`expected an edge '${this.name}' from '${this.parent}' in ${this.proc}, but there is none`);
    return e;
  }

  absent(): void {
    const e = this.find();
    if (e) fail(`expected no edge '${this.name}' from '${this.parent}' in ${this.proc}, but it points to '${e.child}'`);
  }

  /** Each given property holds; perm and shared as sets of QAPI permission names. */
  has(props: EdgeProps): void {
    const e = this.exists();
    const actual: Record<string, unknown> = { child: e.child, perm: permList(e.perm), shared: permList(e.shared), frozen: e.frozen };
    const norm = (k: string, v: unknown) => (k === 'perm' || k === 'shared' ? [...(v as string[])].sort() : v);
    const bad = Object.entries(props).filter(([k, v]) => fmt(norm(k, actual[k])) !== fmt(norm(k, v)));
    if (bad.length) {
      fail(`edge '${this.name}' from '${this.parent}' in ${this.proc}: ${bad.map(([k, v]) => `expected ${k} ${fmt(v)}, got ${fmt(actual[k])}`).join('; ')}`,
        Object.fromEntries(bad.map(([k]) => [k, actual[k]])), Object.fromEntries(bad));
    }
  }
}

export class Then {
  constructor(private readonly t: Trial) {}

  /** QEMU (the model) accepted the last command. */
  ok(): void {
    const w = this.t.last;
    if ('error' in w.reply) fail(`expected ${w.command} to succeed, but QEMU answered ${replyText(w.reply)}`, w.reply, { return: {} });
  }

  /** The last command was refused with exactly this text (and class, when given). */
  error(desc: string, cls?: string): void {
    const w = this.t.last;
    if (!('error' in w.reply)) fail(`expected ${w.command} to fail with '${desc}', but it succeeded`, w.reply, { error: { desc } });
    if (w.reply.error.desc !== desc) fail(`expected ${w.command} to fail with\n  '${desc}'\nbut QEMU's text was\n  '${w.reply.error.desc}'`, w.reply.error.desc, desc);
    if (cls !== undefined && w.reply.error.class !== cls) fail(`expected error class ${cls}, got ${w.reply.error.class}`, w.reply.error.class, cls);
  }

  node(name: string, proc = this.t.proc): NodeAssertion { return new NodeAssertion(this.t, name, proc); }

  /** The child edge `name` (file, backing, root, …) of node, BlockBackend or job `parent`. */
  edge(parent: string, name: string, proc = this.t.proc): EdgeAssertion { return new EdgeAssertion(this.t, parent, name, proc); }

  /** The last command changed no entity and wrote no transaction (a refusal's audit record is fine). */
  stateUnchanged(): void {
    const w = this.t.last;
    if (stateHash(w.before) !== stateHash(this.t.state)) {
      fail(`expected ${w.command} to leave the state unchanged, but:\n  ${diffStates(w.before, this.t.state).join('\n  ')}`);
    }
    const txns = w.records.filter((r) => r.type.startsWith('txn.'));
    if (txns.length) fail(`expected ${w.command} to leave the state unchanged, but it logged ${txns.map((r) => `${r.seq} ${r.type}`).join(', ')}`);
  }

  /** graph/invariants.ts holds on the current state. */
  invariantsHold(): void {
    const v = checkInvariants(this.t.state);
    if (v.length) fail(`invariants violated:\n  ${v.join('\n  ')}`, v, []);
  }

  /** The last command wrote records of these types, in this order (e.g. ['command.rejected']). */
  logged(types: readonly string[]): void {
    // a whole transaction (events/whole.ts) counts as the records it stands for, and a decision
    // that carries its transaction's end (events/ends.ts) as both records
    const got = this.t.last.records.flatMap(partsOf).flatMap((r) => (r.type === 'txn.decided' && endsTxn(r) ? ['txn.decided', 'txn.ended'] : [r.type]));
    const want = [...types];
    const sameSeq = (a: string[]) => { let i = 0; for (const x of a) if (x === want[i]) i++; return i === want.length; };
    if (!sameSeq(got)) fail(`expected the log to get ${fmt(want)} (in order), got ${fmt(got)}`, got, want);
  }
}

async function trialOn(log: EventLog, opts: GivenOptions): Promise<Trial> {
  const engine = await Engine.open(log, { clock: opts.clock ?? FIXED_CLOCK });
  return new Trial(engine, log, opts.proc ?? 'A');
}

function specOf(c: CommandSpec, proc: string): { proc: string; execute: string; args: Record<string, unknown> } {
  if (Array.isArray(c)) return { proc, execute: c[0], args: c[1] ?? {} };
  const o = c as { execute: string; arguments?: Record<string, unknown>; proc?: string };
  return { proc: o.proc ?? proc, execute: o.execute, args: o.arguments ?? {} };
}

function readText(file: string): string {
  try { return readFileSync(file, 'utf8'); } catch (e) {
    // A relative path is resolved against the process's working directory, which in a test
    // runner is rarely where the author thought: say where we looked.
    const abs = resolve(file);
    throw new BlockgraphError('BG_BAD_INPUT', `cannot read ${file}${abs !== file ? ` (resolved to ${abs})` : ''}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file, resolved: abs });
  }
}

/** Names of the transcripts shipped with blockgraph (recorded from qemu-storage-daemon 7.2; oracle/transcripts). */
export function transcripts(): string[] {
  return readdirSync(TRANSCRIPTS_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/**
 * The path of a shipped transcript by name (`transcript('job-commit-intermediate')`), for
 * given.scenario(): it resolves inside the installed package, whatever the working directory.
 */
export function transcript(name: string): string {
  const base = name.endsWith('.json') ? name.slice(0, -5) : name;
  const file = join(TRANSCRIPTS_DIR, `${base}.json`);
  if (!/^[A-Za-z0-9._-]+$/.test(base) || !existsSync(file)) {
    const near = transcripts().filter((t) => t.includes(base.split('-')[0] ?? '')).slice(0, 8);
    throw new BlockgraphError('BG_NOT_FOUND', `no shipped transcript '${name}' in ${TRANSCRIPTS_DIR}${near.length ? ` (e.g. ${near.join(', ')})` : ''}`, { name });
  }
  return file;
}

export const given = {
  /** An empty store. */
  async empty(opts: GivenOptions = {}): Promise<Trial> {
    return trialOn(await openMemory(), opts);
  },

  /** A store built by running these commands; each must succeed (a failing given is a broken test). */
  async commands(list: readonly CommandSpec[], opts: GivenOptions = {}): Promise<Trial> {
    const t = await given.empty(opts);
    for (const [i, c] of list.entries()) {
      const s = specOf(c, t.proc);
      const r = await t.engine.execute(s.proc, s.execute, s.args);
      if ('error' in r.reply) {
        await t.close();
        throw new Error(`blockgraph/testing: given command ${i} (${s.execute}) failed: ${r.reply.error.class}: ${r.reply.error.desc}`);
      }
    }
    return t;
  },

  /** A fixture (`blockgraph fixture export`), checked and imported into a memory store. */
  async fixture(file: string | Fixture, opts: GivenOptions = {}): Promise<Trial> {
    const f = typeof file === 'string' ? parseFixture(readText(file), file) : file;
    const log = await openMemory();
    await importFixture(log, f, typeof file === 'string' ? file : 'fixture');
    return trialOn(log, opts);
  },

  /** A recorded LevelDB store (read, not modified), copied into a memory store. */
  async log(dir: string, opts: GivenOptions = {}): Promise<Trial> {
    const src = await openClassic(dir, { createIfMissing: false });
    let f: Fixture;
    try { f = await exportFixture(src); } finally { await src.close(); }
    return given.fixture(f, opts);
  },

  /** A scenario or transcript (blockgraph-oracle/1) run on the model; refused steps are fine. */
  async scenario(file: string, opts: GivenOptions = {}): Promise<Trial> {
    const t = await given.empty(opts);
    await runOnModel(parseScenario(readText(file), file), t.engine);
    return t;
  },
};

export { compareLogs, formatLogComparison, normalizeLog, type LogComparison } from './compare-logs.js';
export { NatsCluster, natsServerBinary } from './nats-cluster.js';
