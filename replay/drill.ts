// Crash-recovery drills. For a scenario: a reference run (model + in-memory engine) fixes every
// record and every before/after state; then, for every crash point of every operation, a child
// process runs the scenario on a real classic-level store in a temp dir and is killed there by
// SIGKILL; the store it leaves is reopened, recovered and checked (replay/drill/check.ts).
// Random mode: a long random workload, SIGKILLed by the parent after seeded random delays.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario } from '../oracle/format.js';
import { checkRecovered, type Ack, type CheckResult } from './drill/check.js';
import type { ChildJob } from './drill/child.js';
import { crashPoints, referenceRun, scenarioCalls, type CrashKind, type CrashPoint, type DrillCall, type Reference } from './drill/plan.js';
import { randomScenario, seededChooser } from './drill/workload.js';

export { crashPoints, referenceRun, scenarioCalls } from './drill/plan.js';
export type { CrashPoint, DrillCall, DrillOp, Reference } from './drill/plan.js';
export { checkRecovered } from './drill/check.js';

export interface DrillOptions {
  /** Children run at once (default: the number of CPUs). */
  jobs?: number;
  onProgress?: (done: number, total: number) => void;
  /** Only every n-th crash point (sampling for quick runs); default 1 = all. */
  every?: number;
  /** A fleet URL (nats://HOST:PORT/FLEET): each child's store is a host of it instead of a LevelDB dir. */
  store?: string;
  /**
   * Stops the drill (SIGINT, SIGTERM): no new child starts, the running ones are SIGKILLed and
   * their temp dirs removed; the report covers the points that completed (`interrupted` set).
   */
  signal?: AbortSignal;
  /** The children's engines go intent first (engine/intent.ts; default true, as qmp serves), with crash points between intent and record. */
  intentFirst?: boolean;
}

/**
 * Whether the children go intent first: by default, as `blockgraph qmp` serves, but not on a fleet
 * host (`store`): its log takes no intents (store/event-log.ts intentSlot), so there is no
 * intent crash point to plan.
 */
function intentFirstOf(opts: DrillOptions): boolean {
  return opts.intentFirst !== false && opts.store === undefined;
}

/** The store of the child working in `dir`: dir/db, or a host named after the dir in the fleet. */
const storeOf = (dir: string, opts: DrillOptions): string => (opts.store ? `${opts.store.replace(/\/+$/, '')}/${basename(dir).replace(/[^A-Za-z0-9_-]/g, '_')}` : join(dir, 'db'));

export interface PointReport { op: number; label: string; kind: CrashKind | 'random'; afterSeq?: number; delayMs?: number; cut: number; state: string; failures: string[] }
export interface OpRow { operation: string; points: number; passed: number; failed: number }
export interface DrillReport {
  scenario: string;
  mode: 'points' | 'random';
  operations: number;
  records: number;
  rows: OpRow[];
  points: number;
  passed: number;
  failed: number;
  sigkills: number;
  failures: PointReport[];
  ms: number;
  /** Stopped by DrillOptions.signal: `points` of `planned` were run. */
  interrupted?: { planned: number };
}

// From source (tsx) the child is child.ts run with the same loader; from the build, child.js.
function childCommand(): string[] {
  const ts = fileURLToPath(new URL('./drill/child.ts', import.meta.url));
  if (existsSync(ts)) return [...loaderArgs(process.execArgv), ts];
  return [fileURLToPath(new URL('./drill/child.js', import.meta.url))];
}

/**
 * The parent's node flags without the ones that name code to run (`-e`/`--eval`, `-p`/`--print`,
 * with their argument): a drill started by `node --import tsx -e "import('x.spec.ts')"` gave each
 * child the same `-e`, so every child ran the spec again and forked children of its own.
 */
function loaderArgs(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') { i++; continue; }
    if (a.startsWith('--eval=') || a.startsWith('--print=')) continue;
    out.push(a);
  }
  return out;
}

interface ChildRun { acks: Ack[]; signal: NodeJS.Signals | null; code: number | null; stderr: string; done: boolean; elapsedMs?: number }

/** Runs a child on `job`; `killAfterMs` (from its "ready") makes the parent SIGKILL it. */
function runChild(dir: string, job: ChildJob, killAfterMs?: number, signal?: AbortSignal): Promise<ChildRun> {
  const file = join(dir, 'job.json');
  writeFileSync(file, JSON.stringify(job));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childCommand(), file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    // an interrupted drill leaves no child running on (in random mode only the parent kills it)
    const abort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', abort, { once: true });
    if (signal?.aborted) abort();
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const wasReady = out.includes('ready');
      out += d;
      if (!wasReady && out.includes('ready') && killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.once('error', reject);
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      const acks: Ack[] = [];
      for (const line of out.split('\n')) {
        const m = /^ack (\d+) (\d+) /.exec(line);
        if (m) acks.push({ call: Number(m[1]), head: Number(m[2]) });
      }
      const done = /^done (\d+)/m.exec(out);
      resolve({ acks, signal: sig, code, stderr: err, done: done !== null, elapsedMs: done ? Number(done[1]) : undefined });
    });
  });
}

async function pool<T, R>(items: T[], n: number, fn: (t: T, i: number) => Promise<R>, onDone?: (k: number) => void, signal?: AbortSignal): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let finished = 0;
  const worker = async () => {
    while (next < items.length && !signal?.aborted) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
      onDone?.(++finished);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  return out.filter((r) => r !== undefined);
}

async function inTemp<R>(fn: (dir: string) => Promise<R>): Promise<R> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-drill-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function summarize(scenario: string, mode: DrillReport['mode'], ref: Reference, reports: PointReport[], sigkills: number, t0: number, planned = reports.length, signal?: AbortSignal): DrillReport {
  const rows = new Map<string, OpRow>();
  for (const r of reports) {
    const row = rows.get(r.label) ?? { operation: r.label, points: 0, passed: 0, failed: 0 };
    row.points++;
    if (r.failures.length) row.failed++;
    else row.passed++;
    rows.set(r.label, row);
  }
  const failures = reports.filter((r) => r.failures.length);
  return {
    scenario, mode, operations: ref.ops.length, records: ref.records.length, rows: [...rows.values()],
    points: reports.length, passed: reports.length - failures.length, failed: failures.length, sigkills, failures,
    ms: Math.round(performance.now() - t0),
    ...(signal?.aborted ? { interrupted: { planned } } : {}),
  };
}

function killFailures(run: ChildRun): string[] {
  if (run.signal === 'SIGKILL') return [];
  return [`the child was not killed by SIGKILL (exit ${run.code}, signal ${run.signal}): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`];
}

/** Every crash point of every operation of `scenario`, each in its own SIGKILLed child. */
export async function drillScenario(scenario: Scenario, opts: DrillOptions = {}): Promise<DrillReport> {
  const t0 = performance.now();
  const calls = scenarioCalls(scenario);
  const ref = await referenceRun(calls);
  const every = Math.max(1, opts.every ?? 1);
  const points = crashPoints(ref, { intentFirst: intentFirstOf(opts) }).filter((_, i) => i % every === 0);
  let sigkills = 0;
  const reports = await pool(points, opts.jobs ?? availableParallelism(), (p: CrashPoint) => inTemp(async (dir) => {
    const op = ref.ops[p.op]!;
    // The child runs only as far as it must: through the op's call.
    const run = await runChild(dir, { db: storeOf(dir, opts), calls: calls.slice(0, op.call + 1), crash: { afterSeq: p.afterSeq, afterAck: p.afterAck, afterIntent: p.afterIntent }, intentFirst: intentFirstOf(opts) }, undefined, opts.signal);
    // killed by the interruption, not at its crash point: not a point run
    if (opts.signal?.aborted) return undefined;
    if (run.signal === 'SIGKILL') sigkills++;
    const failures = killFailures(run);
    const expectCut = p.afterSeq ?? op.last;
    // a cut between intent and record: the store ends before the op's records, recovery appends them
    const c: CheckResult = await checkRecovered(storeOf(dir, opts), ref, run.acks, expectCut, p.kind === 'intent' ? op.first - 1 : undefined);
    if (c.op !== p.op && c.cut === expectCut) failures.push(`the cut at ${c.cut} maps to operation ${c.op}, not ${p.op}`);
    return { op: p.op, label: op.label, kind: p.kind, afterSeq: p.afterSeq, cut: c.cut, state: c.state, failures: [...failures, ...c.failures] };
  }), (k) => opts.onProgress?.(k, points.length), opts.signal);
  return summarize(scenario.name, 'points', ref, reports.filter((r) => r !== undefined), sigkills, t0, points.length, opts.signal);
}

export interface RandomOptions extends DrillOptions {
  kills: number;
  seed: number;
  /** Random commands appended to the scenario's steps (default 300). */
  length?: number;
}

/** `kills` children on one long random workload, each SIGKILLed by the parent after a seeded random delay. */
export async function drillRandom(scenario: Scenario, opts: RandomOptions): Promise<DrillReport> {
  const t0 = performance.now();
  const workload = randomScenario(opts.seed, opts.length ?? 300, scenario);
  const calls: DrillCall[] = scenarioCalls(workload);
  const ref = await referenceRun(calls);
  // A calibration run (not killed) measures how long the workload takes, so kills spread over it.
  const intent = { intentFirst: intentFirstOf(opts) };
  const calib = await inTemp((dir) => runChild(dir, { db: storeOf(dir, opts), calls, ...intent }, undefined, opts.signal));
  if (opts.signal?.aborted) return summarize(workload.name, 'random', ref, [], 0, t0, opts.kills, opts.signal);
  if (!calib.done) throw new Error(`the calibration run failed: ${calib.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const span = Math.max(5, calib.elapsedMs ?? 0);
  const rng = seededChooser(opts.seed ^ 0x5eed);
  const delays = Array.from({ length: opts.kills }, () => rng.int(span));
  let sigkills = 0;
  const reports = await pool(delays, opts.jobs ?? availableParallelism(), (delayMs) => inTemp(async (dir) => {
    const run = await runChild(dir, { db: storeOf(dir, opts), calls, ...intent }, delayMs, opts.signal);
    if (opts.signal?.aborted) return undefined;
    if (run.signal === 'SIGKILL') sigkills++;
    // A child that finished before its kill time is no failure: its store is checked all the same.
    const failures = run.done && run.code === 0 ? [] : killFailures(run);
    const c = await checkRecovered(storeOf(dir, opts), ref, run.acks);
    const op = ref.ops[c.op];
    const label = run.done ? '(finished before the kill)' : op ? op.command : '(before the first record)';
    return { op: c.op, label, kind: 'random' as const, delayMs, cut: c.cut, state: c.state, failures: [...failures, ...c.failures] };
  }), (k) => opts.onProgress?.(k, delays.length), opts.signal);
  return summarize(workload.name, 'random', ref, reports.filter((r) => r !== undefined), sigkills, t0, delays.length, opts.signal);
}
