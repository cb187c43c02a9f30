// The model's QMP entry point: validate, run the command on a Draft of the state, and
// return QEMU's reply with the transaction plan (steps with before/after images). A
// refusal returns the untouched state: a command either happens whole or not at all. Two things
// outlive a refusal, as in QEMU: what a transaction's abort handlers leave (abort-residue.ts) and
// the process's id counter for anonymous node names (graph/id-counter.ts); such a refusal is
// logged as a transaction whose decided reply is QEMU's error.
import { QemuAbortRefusal } from '../graph/qemu-abort.js';
import { QmpError } from '../errors/index.js';
import { Draft, type Step } from '../graph/draft.js';
import { autoNamesReached } from '../graph/id-counter.js';
import { applyChanges } from '../graph/apply.js';
import { refreshFilenames } from '../graph/filename.js';
import { Proc } from '../graph/proc.js';
import type { State } from '../graph/types.js';
import type { QmpEvent, QmpReply } from './protocol.js';
import { COMMANDS } from './registry.js';
import { flushDrainWakes, wakeJob } from '../graph/jobs/rate.js';
import { takeDrainWakes } from '../graph/drain.js';
import { preallocateDropResizeBh } from '../graph/preallocate-bh.js';
import { QmpErrorAfterAbort } from '../graph/abort-residue.js';
import { jobAttachResidue } from '../graph/jobs/attach-residue.js';
import { keepDebugStates } from '../graph/blkdebug-state.js';
import { IO_EVENTS, takeIoEvents } from '../graph/io-events.js';
import { keepCreatedImages } from '../graph/images.js';
import { validateCommand } from './schema/index.js';
import { ruleAt } from '../graph/rules.js';
import { versionIn } from '../graph/version.js';
import { VM_COMMAND_NAMES } from './vm/index.js';

export interface ExecResult {
  reply: QmpReply;
  mutates: boolean;
  steps: Step[];
  events: QmpEvent[];
  state: State;
}

export function executeCommand(state: State, proc: string, command: string, args: unknown = {}): ExecResult {
  // blockgraph's own commands (x-blockgraph-*) are not in QEMU's schema; they check their input themselves.
  // The vm target's own commands (device_add, media, stop/cont…) are not in QSD's schema either: a
  // VM process checks their arguments in the command (device_add is 'gen': false, free-form), a
  // qemu-storage-daemon process has no such command.
  const vm = (state[proc]?.meta?.proc as { target?: string } | undefined)?.target === 'vm';
  if (VM_COMMAND_NAMES.has(command) && !vm) return refuse(state, 'CommandNotFound', `The command ${command} has not been found`);
  if (VM_COMMAND_NAMES.has(command) && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    return refuse(state, 'GenericError', "QMP input member 'arguments' must be an object");
  }
  const v = command.startsWith('x-blockgraph-') || VM_COMMAND_NAMES.has(command)
    ? { ok: true as const, value: args } : validateCommand(command, args ?? {}, ruleAt(versionIn(state, proc), 'qapi-schema'));
  if (!v.ok) return refuse(state, v.class, v.desc);
  const def = COMMANDS.get(command);
  if (!def) return refuse(state, 'CommandNotFound', `The command ${command} has not been found`);
  const d = new Draft(state);
  const p = new Proc(d, proc);
  const events: QmpEvent[] = [];
  let ret: unknown;
  try {
    // what the command's reads sent (graph/io-events.ts) goes out before its next event
    const emit = (event: string, data: Record<string, unknown>) => { events.push(...takeIoEvents(d), { event, data }); };
    ret = def.run({ p, args: (v.value ?? {}) as Record<string, any>, events, emit });
    // the wake-ups of speed-limited jobs whose nodes the command drained
    flushDrainWakes({ p, emit });
    events.push(...takeIoEvents(d));
    // bottom halves the command scheduled run in the main loop once it has answered
    if (def.mutates) preallocateDropResizeBh(p);
    // file names that depend on the graph (bdrv_refresh_filename) follow every change
    if (def.mutates) refreshFilenames(p);
    // names handed out by a part of the command that was rolled back stay used
    keepIdCounters(d, d);
  } catch (e0) {
    let e = e0;
    // a refused command's reads have sent their events all the same
    events.push(...takeIoEvents(d));
    // a command QEMU dies (or hangs) on has no after-state to keep: refused whole, no events
    if (e instanceof QemuAbortRefusal) return { ...refuse(state, e.cls, e.desc), events: [] };
    // the subtrees its jobs attached stay refreshed (graph/jobs/attach-residue.ts)
    const jobResidue = e instanceof QmpError ? jobAttachResidue(d) : undefined;
    if (jobResidue && e instanceof QmpError) {
      const before = e instanceof QmpErrorAfterAbort ? e.residue : undefined;
      const own = (e as { failEvents?: QmpEvent[] }).failEvents;
      e = Object.assign(new QmpErrorAfterAbort(e.desc, e.cls, (q) => { before?.(q); jobResidue(q); }), own ? { failEvents: own } : {});
    }
    if (e instanceof QmpErrorAfterAbort) {
      // an abort handler QEMU dies in (external_snapshot_abort's &error_abort) refuses it whole
      try { return afterAbort(state, proc, e, { failed: d, failEvents: earlyFailEvents(events), wakes: takeDrainWakes(p) }); } catch (x) {
        if (x instanceof QemuAbortRefusal) return { ...refuse(state, x.cls, x.desc), events: [] };
        throw x;
      }
    }
    if (e instanceof QmpError) {
      // a transaction that created jobs before failing says itself what QEMU sent
      const own = (e as { failEvents?: QmpEvent[] }).failEvents;
      const evs = own ?? earlyFailEvents(events);
      const wakes = takeDrainWakes(p);
      // what stays of a refusal: the anonymous node names it used up (id_generate) and the
      // wake-ups of the drained sections it ran; nothing else
      const counters = idCountersAdvanced(state, d);
      // and the blkdebug rules its reads activated (graph/blkdebug-state.ts)
      const debug = keepDebugStates(d, new Draft(state), (to, name) => new Proc(to, name));
      // and the images bdrv_img_create wrote before the failure (graph/images.ts)
      const images = keepCreatedImages(d, new Draft(state));
      if (counters || wakes.length || debug || images) {
        const kept = new QmpErrorAfterAbort(e.desc, e.cls, () => undefined);
        const step = counters ? 'id counter' : debug ? 'blkdebug rules a refused read activated'
          : images ? 'images a refused command created' : 'drain wake-ups of a refused command';
        return afterAbort(state, proc, kept, { failed: d, failEvents: evs, wakes, step });
      }
      return { ...refuse(state, e.cls, e.desc), events: evs };
    }
    throw e;
  }
  const steps = d.steps();
  return new Decided({ return: ret ?? {} }, def.mutates && steps.length > 0, steps, events, state);
}

/**
 * A command's result whose next state is computed on first use only: the engine folds the logged
 * records instead, and copying large collections per command would make it O(graph size).
 * A class, its getter on the prototype: an object literal with `get state()` gave every result
 * a fresh closure in an accessor of its own, so a hidden class (V8 map, old space) per command
 * that held the closure, hence the command's Draft, steps and images, strongly. Scavenges kept
 * all of that alive until the next full GC: ~1 MB promoted per scavenge, the p99's pauses
 * (issue 15; specs/engine/result-shape.spec.ts counts the maps).
 */
class Decided implements ExecResult {
  #next: State | undefined;
  readonly #base: State;
  constructor(public reply: QmpReply, public mutates: boolean, public steps: Step[], public events: QmpEvent[], base: State) {
    this.#base = base;
  }
  get state(): State {
    if (!this.#next) {
      let next = this.#base;
      for (const s of this.steps) next = applyChanges(next, s.changes);
      this.#next = next;
    }
    return this.#next;
  }
}

/**
 * A command refused after it created a job: every *_start's fail path calls job_early_fail
 * (job.c: job_do_dismiss_locked), so QEMU has sent 'created' and now sends 'null' for the job.
 * Nothing else of the failed command is visible.
 */
export function earlyFailEvents(events: readonly QmpEvent[]): QmpEvent[] {
  const out: QmpEvent[] = [];
  for (const ev of events) {
    if (IO_EVENTS.has(ev.event)) out.push(ev);
    const d = ev.data as { status?: string; id?: string } | undefined;
    if (ev.event === 'JOB_STATUS_CHANGE' && d?.status === 'created') {
      out.push(ev, { event: 'JOB_STATUS_CHANGE', data: { status: 'null', id: d.id } });
    }
  }
  return out;
}

/**
 * util/id.c id_generate: id_counters[] is a static of the process that no tran_abort or open
 * failure takes back (graph/id-counter.ts). Writes the highest values the command `from` reached
 * into `to` (the command's own Draft, or the residue of a refused one).
 */
function keepIdCounters(from: Draft, to: Draft): void {
  for (const [proc, n] of autoNamesReached(from)) {
    const p = new Proc(to, proc);
    if (p.meta().autoName < n) p.setMeta({ autoName: n });
  }
}

function idCountersAdvanced(state: State, d: Draft): boolean {
  const before = new Draft(state);
  return [...autoNamesReached(d)].some(([proc, n]) => new Proc(before, proc).meta().autoName < n);
}

/** QEMU's error, and what its abort handlers left changed (graph/abort-residue.ts). */
interface AfterAbort {
  /** the refused command's own Draft: the id counters it reached stay (keepIdCounters) */
  failed?: Draft;
  failEvents?: QmpEvent[];
  /** jobs whose drained sections the command ran before failing */
  wakes?: string[];
  step?: string;
}

function afterAbort(state: State, proc: string, e: QmpErrorAfterAbort, o: AfterAbort = {}): ExecResult {
  const d = new Draft(state);
  d.step(o.step ?? 'abort residue');
  const p = new Proc(d, proc);
  e.residue(p);
  // the bottom halves the failed command scheduled run once it has answered, as on success: a
  // preallocate filter whose parents a partial blockdev-set-active left without write and resize
  // drops its claim on its file (preallocate_drop_resize_bh; fuzz --qemu 10.0 2801734485)
  preallocateDropResizeBh(p);
  // a residue that moves edges (external_snapshot_abort's bdrv_replace_node) changes file names
  refreshFilenames(p);
  if (o.failed) {
    keepIdCounters(o.failed, d);
    keepDebugStates(o.failed, d, (to, name) => new Proc(to, name));
    keepCreatedImages(o.failed, d);
  }
  // A refused command still ran its drained sections up to the error, and bdrv_drained_end ran
  // on every error path: the jobs they resumed (child_job_drained_end -> job_resume) took their
  // wake-ups although nothing else of the command is left
  const wokenEvents: QmpEvent[] = [];
  const emit = (event: string, data: Record<string, unknown>) => { wokenEvents.push(...takeIoEvents(d), { event, data }); };
  for (const id of o.wakes ?? []) if (p.job(id)) wakeJob({ p, emit }, id);
  flushDrainWakes({ p, emit });
  wokenEvents.push(...takeIoEvents(d));
  // and what those jobs did (a stream's or commit's completion: bdrv_set_backing_hd and
  // bdrv_change_backing_file end in bdrv_refresh_filename) shows in the names as on success
  refreshFilenames(p);
  const steps = d.steps();
  // a transaction that also created jobs says what QEMU sent for them (commands/transaction.ts)
  const events = [...((e as { failEvents?: QmpEvent[] }).failEvents ?? o.failEvents ?? []), ...wokenEvents];
  if (!steps.length || steps.every((s) => !s.changes.length)) return { ...refuse(state, e.cls, e.desc), events };
  return new Decided({ error: { class: e.cls, desc: e.desc } }, true, steps, events, state);
}

function refuse(state: State, cls: string, desc: string): ExecResult {
  return { reply: { error: { class: cls, desc } }, mutates: false, steps: [], events: [], state };
}
