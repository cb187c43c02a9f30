// The command grammar: each production draws one QMP command over the *current* graph of a
// process (its real node names, backing chains, filters, jobs in whatever state they are in,
// exports, iothreads), so that sequences go deep instead of failing on unknown names.
// Productions lean towards what issue 12 found under-tested: inline children kept in the
// parent's options, reopen lists that keep, reset or change options, formats over filters,
// driver options with limits, jobs over frozen links and job verbs in every state.
import { isWaitStep, type Json, type JsonObject, type Step } from '../format.js';
import { knownAbort } from './aborts.js';
import { queryBreaks } from './query-breaks.js';
import { hmpEquivalent } from './hmp-equivalent.js';
import { FAMILIES_A, FAMILIES_B } from './families/index.js';
import { ALL_FILES, OTHER_FORMAT_IMAGES, QCOW2, clone, cmd, isObj, type Production } from './production.js';
import { LIBA_PRODUCTIONS } from './grammar-liba.js';
import type { Rng } from './rng.js';
import { DEFAULT_QEMU, type QemuVersion } from '../../graph/version.js';
import type { ProcView, World } from './world.js';
import { BACKUP_PRODUCTIONS, backupFollowUp } from './grammar-backup.js';

/** The images of every fuzz case: a three-image chain, two standalone images, two empty targets, a raw file. */
// Data is laid out so that every job has work left (README: speed 1 keeps a job running only while
// it has chunks to copy): stream into top copies mid's and base's first half, commit of top copies
// its second half, commit of mid its first half, mirror of a.qcow2 all of it.
export const FUZZ_IMAGES = [
  { file: 'base.qcow2', format: 'qcow2', size: '16M', data: [{ offset: 0, length: 16777216 }] },
  { file: 'mid.qcow2', format: 'qcow2', size: '16M', backing: 'base.qcow2', 'backing-format': 'qcow2', data: [{ offset: 0, length: 8388608, pattern: 91 }] },
  { file: 'top.qcow2', format: 'qcow2', size: '16M', backing: 'mid.qcow2', 'backing-format': 'qcow2', data: [{ offset: 8388608, length: 8388608, pattern: 92 }] },
  { file: 'a.qcow2', format: 'qcow2', size: '16M', data: [{ offset: 0, length: 16777216, pattern: 93 }] },
  { file: 't1.qcow2', format: 'qcow2', size: '16M' },
  { file: 't2.qcow2', format: 'qcow2', size: '16M' },
  { file: 'r.raw', format: 'raw', size: '16M' },
  // stop 33: one empty image of each other format the model opens (graph/other-formats.ts, qed);
  // copied into a case only when a step names it (families/widened.ts formatImage)
  ...OTHER_FORMAT_IMAGES.map((f) => ({ file: `v.${f}`, format: f, size: '16M' })),
];


export class Generator {
  private counter = 0;
  /** Steps to send next, whatever the dice say (a `wait` after a job that runs freely). */
  readonly queue: Step[] = [];
  /**
   * The rest of a sequence (families/job-states.ts, families/create-formats.ts): each step goes
   * out only when the one before it succeeded (a wait for a job that never started would poll
   * until its timeout); a refused or avoided step drops the rest.
   */
  private seqRest: Step[] = [];
  private seqArmed = false;
  /** The QEMU the case runs on: 10.0-only commands are drawn only there (families/widened.ts). */
  qemu: QemuVersion = DEFAULT_QEMU;
  constructor(readonly rng: Rng, readonly world: World) {}
  /** A VM case drives one process (grammar-vm.ts). */
  protected singleProcess = false;
  /** Process A's weighted productions (grammar-vm.ts adds the guest-device ones). */
  protected productions(): [Production, number][] { return PRODUCTIONS_A; }

  fresh(prefix: string, p: ProcView): string {
    let n: string;
    do n = `${prefix}${this.counter++}`; while (p.used.has(n));
    p.used.add(n);
    return n;
  }

  /** The next step: a queued follow-up, or a production drawn by weight that avoids known aborts. */
  next(): Step | undefined {
    // queued follow-ups are checked against the known aborts too (the graph moved since they were drawn)
    for (let q = this.queue.shift(); q; q = this.queue.shift()) {
      if ('wait' in q || !avoided(q, this.world.proc(q.proc ?? 'A'))) return q;
    }
    while (this.seqRest.length) {
      const s = this.seqRest.shift()!;
      if ('wait' in s || !avoided(s, this.world.proc(s.proc ?? 'A'))) { this.seqArmed = true; return s; }
      this.seqRest = [];
    }
    for (let tries = 0; tries < 50; tries++) {
      const proc = this.singleProcess ? 'A' : this.rng.chance(0.1) ? 'B' : 'A';
      const p = this.world.proc(proc);
      const prods = proc === 'A' ? this.productions() : PRODUCTIONS_B;
      const prod = this.rng.weighted(prods);
      const step = prod(this, p, proc);
      if (!step || avoided(step, p)) { this.seqRest = []; this.seqArmed = false; continue; }
      return step;
    }
    return undefined;
  }

  /** After a step's reply: queue what must follow it (a wait for a job left to run at full speed). */
  followUp(step: Step, ok: boolean): void {
    if (this.seqArmed) { this.seqArmed = false; if (!ok) this.seqRest = []; }
    if (!ok || 'wait' in step) return;
    const a = step.arguments ?? {};
    const proc = step.proc;
    const wait = (job: string, status: string) => this.queue.push(proc ? { proc, wait: { job, status } } : { wait: { job, status } });
    if (['block-stream', 'block-commit', 'blockdev-mirror', 'drive-mirror'].includes(step.execute) && a.speed === undefined) {
      const id = String(a['job-id'] ?? a.device);
      const active = step.execute === 'blockdev-mirror' || step.execute === 'drive-mirror' || (step.execute === 'block-commit' && (a['top-node'] === undefined || a['top-node'] === a.device));
      wait(id, active ? 'ready' : 'pending');
    }
    backupFollowUp(step, wait);
    if (step.execute === 'block-job-set-speed' && a.speed === 0) {
      const j = this.world.proc(proc ?? 'A').jobs.get(String(a.device));
      if (j && j.status === 'running') wait(j.id, j.kind === 'mirror' || j.kind === 'commit-active' ? 'ready' : 'pending');
    }
  }

  /** Starts a sequence: its first step now, the others one by one while each succeeds. */
  seq(steps: Step[]): Step | undefined {
    if (!steps.length) return undefined;
    this.seqRest = steps.slice(1);
    this.seqArmed = true;
    return steps[0];
  }
  /** A sequence is under way: productions that start one wait for it to end. */
  inSeq(): boolean { return this.seqRest.length > 0; }

  // ----- helpers over the view -----
  pickNamed(p: ProcView, pred: (n: string) => boolean = () => true): string | undefined {
    const xs = p.named().filter(pred);
    return xs.length ? this.rng.pick(xs) : undefined;
  }
  /** A reference target: mostly a present node, sometimes a name that is not there. */
  ref(p: ProcView, pred?: (n: string) => boolean): string {
    return this.rng.chance(0.06) ? 'nosuch' : (this.pickNamed(p, pred) ?? 'nosuch');
  }
  fileChild(p: ProcView, image: string): Json {
    const r = this.rng.next();
    if (r < 0.45) return { driver: 'file', filename: image };
    if (r < 0.75) return { driver: 'file', filename: image, 'node-name': this.fresh('f', p) };
    const files = p.named().filter((n) => p.driver(n) === 'file');
    const any = p.named();
    if (r < 0.9 && files.length) return this.rng.pick(files);
    // a format over a filter or over another format node
    return any.length ? this.rng.pick(any) : { driver: 'file', filename: image };
  }
}

// ----- productions -----

const addQcow2: Production = (g, p, proc) => {
  const r = g.rng;
  const image = r.pick(r.chance(0.9) ? QCOW2 : ALL_FILES);
  const o: JsonObject = { driver: 'qcow2', 'node-name': g.fresh('n', p), file: g.fileChild(p, image) };
  const b = r.next();
  if (b < 0.35) o.backing = null;
  else if (b < 0.65) o.backing = g.ref(p);
  else if (b < 0.72) o.backing = { driver: 'qcow2', 'node-name': g.fresh('n', p), file: { driver: 'file', filename: r.pick(QCOW2) }, backing: null };
  if (r.chance(0.2)) o['read-only'] = true;
  if (r.chance(0.15)) {
    const extra = r.pick<JsonObject>([
      { 'cache-clean-interval': r.pick([0, 600, 4294967296]) }, { discard: 'unmap' }, { 'detect-zeroes': 'on' },
      { 'force-share': true, 'read-only': true }, { 'auto-read-only': true }, { 'l2-cache-size': r.pick([65536, 1048576, 3]) },
      { cache: { 'no-flush': true } }, { 'lazy-refcounts': true }, { 'force-share': true },
    ]);
    Object.assign(o, extra);
  }
  return cmd(proc, 'blockdev-add', o);
};

/**
 * BlockdevOptions' common members on a node other than qcow2 (whose production has its own):
 * stop 40 (wt-fz20) counted run a's 20,015 commands, and no file, raw, null, filter or other
 * format node was ever opened with discard, detect-zeroes, cache, force-share or auto-read-only —
 * which decide bdrv_co_pwrite_zeroes' unmap (a mirror's zero_target, detect-zeroes turning a
 * copy's zero clusters into zero writes), the image locks a read-only force-share open skips,
 * and a read-write open falling back to read-only. Given with probability `k`, in the combinations
 * bdrv_open_common and raw_open_common take or refuse (detect-zeroes=unmap without discard=unmap,
 * force-share without read-only: both refused, kept rare).
 */
function withBaseOptions(g: Generator, o: JsonObject, k = 0.15): JsonObject {
  const r = g.rng;
  if (!r.chance(k)) return o;
  const extra = r.pick<JsonObject>([
    { discard: r.pick(['unmap', 'ignore']) }, { 'detect-zeroes': r.pick(['on', 'off']) },
    { discard: 'unmap', 'detect-zeroes': 'unmap' }, { 'detect-zeroes': 'unmap' },
    { 'force-share': true, 'read-only': true }, { 'force-share': true }, { 'auto-read-only': true },
    { cache: { 'no-flush': true } }, { cache: { 'no-flush': false, direct: false } },
  ]);
  return Object.assign(o, extra);
}

/** A production whose blockdev-add gets withBaseOptions at its top level. */
function baseOptioned(prod: Production): Production {
  return (g, p, proc) => {
    const st = prod(g, p, proc);
    if (st && !isWaitStep(st) && st.execute === 'blockdev-add' && st.arguments) withBaseOptions(g, st.arguments as JsonObject);
    return st;
  };
}

const addFile: Production = (g, p, proc) => {
  const o: JsonObject = { driver: 'file', 'node-name': g.fresh('f', p), filename: g.rng.pick(ALL_FILES) };
  if (g.rng.chance(0.3)) o['read-only'] = true;
  if (g.rng.chance(0.1)) o.locking = g.rng.pick(['off', 'on', 'auto']);
  return cmd(proc, 'blockdev-add', o);
};

const addRaw: Production = (g, p, proc) => {
  const r = g.rng;
  const o: JsonObject = { driver: 'raw', 'node-name': g.fresh('n', p), file: g.fileChild(p, r.chance(0.7) ? 'r.raw' : r.pick(QCOW2)) };
  if (r.chance(0.35)) o.offset = r.pick([0, 512, 1000, 1048576, 16777216, 33554432]);
  if (r.chance(0.35)) o.size = r.pick([512, 1000, 1048576, 16777216, 33554432]);
  if (r.chance(0.15)) o['read-only'] = true;
  return cmd(proc, 'blockdev-add', o);
};

// null-co/null-aio without read-zeroes return reads in uninitialised buffers: a format probing one,
// or a quorum voting over two, then answers differently from run to run (seen: 'Image is not in
// qcow2 format' vs 'Could not read qcow2 header: Input/output error'), so they always read zeroes.
const NULL_ZEROES = { 'read-zeroes': true };

const addNull: Production = (g, p, proc) => {
  const o: JsonObject = { driver: g.rng.chance(0.8) ? 'null-co' : 'null-aio', 'node-name': g.fresh('n', p), ...NULL_ZEROES };
  if (g.rng.chance(0.4)) o.size = g.rng.pick([1048576, 16777216, 1000]);
  if (g.rng.chance(0.1)) o['read-only'] = true;
  return cmd(proc, 'blockdev-add', o);
};

const addFilter: Production = (g, p, proc) => {
  const r = g.rng;
  const kind = r.pick(['throttle', 'copy-on-read', 'blkdebug', 'blkdebug', 'quorum', 'compress']);
  const name = g.fresh('x', p);
  const child = (): Json => (r.chance(0.8) ? g.ref(p) : { driver: 'qcow2', file: { driver: 'file', filename: r.pick(QCOW2) } });
  switch (kind) {
    case 'throttle': {
      const grp = p.throttleGroups.size && r.chance(0.85) ? r.pick([...p.throttleGroups]) : 'tg9';
      return cmd(proc, 'blockdev-add', { driver: 'throttle', 'node-name': name, 'throttle-group': grp, file: child() });
    }
    case 'copy-on-read': return cmd(proc, 'blockdev-add', { driver: 'copy-on-read', 'node-name': name, file: child() });
    case 'compress': return cmd(proc, 'blockdev-add', { driver: 'compress', 'node-name': name, file: child() });
    case 'blkdebug': {
      const o: JsonObject = { driver: 'blkdebug', 'node-name': name, image: child() };
      if (r.chance(0.3)) o.align = r.pick([512, 4096, 1000, 65536]);
      if (r.chance(0.15)) o['inject-error'] = [{ event: 'read_aio', errno: 5 }];
      return cmd(proc, 'blockdev-add', o);
    }
    default: {
      const n = 1 + r.int(3);
      const children: Json[] = [];
      for (let i = 0; i < n; i++) children.push(r.chance(0.5) ? { driver: 'null-co', ...NULL_ZEROES } : g.ref(p));
      return cmd(proc, 'blockdev-add', { driver: 'quorum', 'node-name': name, children, 'vote-threshold': 1 + r.int(n + 1) });
    }
  }
};

/** A qcow2 image opened over a filter that sits over the image's file (issue 12 item 2). */
const addFormatOverFilter: Production = (g, p, proc) => {
  const r = g.rng;
  const f = g.fresh('f', p);
  const drv = r.pick(['blkdebug', 'throttle', 'copy-on-read']);
  const inner: JsonObject = { driver: 'file', filename: r.pick(QCOW2), 'node-name': f };
  let filt: JsonObject;
  if (drv === 'blkdebug') filt = { driver: 'blkdebug', image: inner };
  else if (drv === 'throttle') {
    if (!p.throttleGroups.size) return undefined;
    filt = { driver: 'throttle', 'throttle-group': r.pick([...p.throttleGroups]), file: inner };
  } else filt = { driver: 'copy-on-read', file: inner };
  if (r.chance(0.5)) filt['node-name'] = g.fresh('x', p);
  const o: JsonObject = { driver: 'qcow2', 'node-name': g.fresh('n', p), file: filt };
  if (r.chance(0.5)) o.backing = null;
  return cmd(proc, 'blockdev-add', o);
};

const del: Production = (g, p, proc) => cmd(proc, 'blockdev-del', { 'node-name': g.ref(p) });

/** Options for reopening `node`: its last options, then one change (keep, reset, change). */
export function reopenOptions(g: Generator, p: ProcView, node: string): JsonObject {
  const r = g.rng;
  const known = p.options.get(node);
  const o: JsonObject = known ? clone(known) : { driver: p.driver(node) ?? 'qcow2', 'node-name': node };
  // children opened inline: keep the dict, name the child, or leave it out
  for (const edge of ['file', 'backing', 'image']) {
    const v = o[edge];
    if (!isObj(v)) continue;
    const cur = p.child(node, edge);
    const k = r.next();
    if (k < 0.45 && cur && !/[.#]/.test(cur)) o[edge] = cur;
    else if (k < 0.6) delete o[edge];
    // else: keep the inline dict as it was given (QEMU extracted it at open time)
  }
  const m = r.next();
  if (m < 0.2) { /* keep everything */ }
  else if (m < 0.4) o['read-only'] = !(o['read-only'] === true);
  else if (m < 0.5) {
    const keys = Object.keys(o).filter((k) => k !== 'node-name' && k !== 'driver');
    if (keys.length) delete o[r.pick(keys)];
  } else if (m < 0.68) o.backing = r.chance(0.3) ? null : g.ref(p, (n) => n !== node);
  else if (m < 0.78) o.file = g.ref(p, (n) => n !== node);
  else if (m < 0.85) Object.assign(o, r.pick<JsonObject>([{ 'detect-zeroes': 'on' }, { discard: 'unmap' }, { 'cache-clean-interval': r.pick([0, 60, 4294967296]) }, { 'force-share': true }, { 'l2-cache-size': 3 }]));
  else if (m < 0.92) {
    if (o.driver === 'raw') Object.assign(o, r.pick<JsonObject>([{ offset: 512 }, { size: 1048576 }, { size: 1000 }, { offset: 33554432 }]));
    else if (o.driver === 'blkdebug') o.align = r.pick([512, 1000, 4096]);
    else if (o.driver === 'throttle') o['throttle-group'] = r.pick([...p.throttleGroups, 'tg9']);
    else if (o.driver === 'qcow2') o['cache-clean-interval'] = r.pick([0, 4294967296]);
    else o['read-only'] = !(o['read-only'] === true);
  } else if (m < 0.96) delete o.driver;
  else o.driver = r.pick(['raw', 'qcow2', 'file']);
  return o;
}

/**
 * A step QEMU dies on (knownAbort) or after which its own graph query fails (queryBreaks); an
 * HMP line is judged as the QMP command it runs (hmp-equivalent.ts).
 */
const avoided = (step: Step, p: ProcView): string | undefined => {
  const s = hmpEquivalent(step, p.graph) ?? step;
  return knownAbort(s, p) ?? queryBreaks(s, p);
};

const reopen: Production = (g, p, proc) => {
  const names = p.named();
  if (!names.length) return undefined;
  const n = g.rng.chance(0.75) ? 1 : 2 + g.rng.int(2);
  const picked = new Set<string>();
  for (let i = 0; i < n; i++) picked.add(g.rng.pick(names));
  const options = [...picked].map((x) => reopenOptions(g, p, x));
  if (g.rng.chance(0.03) && options.length) options.push(clone(options[0]!));
  return cmd(proc, 'blockdev-reopen', { options });
};

const snapshot: Production = (g, p, proc) => {
  const overlays = p.named().filter((n) => p.driver(n) === 'qcow2' && !p.child(n, 'backing'));
  const overlay = overlays.length && g.rng.chance(0.85) ? g.rng.pick(overlays) : g.ref(p);
  return cmd(proc, 'blockdev-snapshot', { node: g.ref(p), overlay });
};

export function jobArgs(g: Generator, o: JsonObject): JsonObject {
  if (g.rng.chance(0.7)) o.speed = 1;
  else if (g.rng.chance(0.05)) o.speed = -1;
  o['auto-finalize'] = false;
  return o;
}

const stream: Production = (g, p, proc) => {
  const r = g.rng;
  const dev = g.ref(p);
  const below = p.chainBelow(dev).filter((n) => !/[.#]/.test(n));
  const o: JsonObject = { 'job-id': g.fresh('j', p), device: dev };
  const k = r.next();
  if (below.length && k < 0.4) o['base-node'] = r.pick(below);
  else if (below.length && k < 0.6) o.bottom = r.pick(below);
  else if (k < 0.65) o.base = r.pick(QCOW2);
  else if (k < 0.7) { o['base-node'] = g.ref(p); o.bottom = g.ref(p); }
  if (r.chance(0.2)) o['filter-node-name'] = g.fresh('s', p);
  jobArgs(g, o);
  o['auto-dismiss'] = true;
  return cmd(proc, 'block-stream', o);
};

const commit: Production = (g, p, proc) => {
  const r = g.rng;
  const dev = g.ref(p);
  const below = p.chainBelow(dev).filter((n) => !/[.#]/.test(n));
  const o: JsonObject = { 'job-id': g.fresh('j', p), device: dev };
  if (below.length && r.chance(0.5)) {
    const i = r.int(below.length);
    o['top-node'] = below[i]!;
    if (r.chance(0.6) && i + 1 < below.length) o['base-node'] = below[i + 1 + r.int(below.length - i - 1)]!;
  } else if (below.length && r.chance(0.5)) o['base-node'] = r.pick(below);
  else if (r.chance(0.2)) o['top-node'] = g.ref(p);
  if (r.chance(0.05)) o.top = r.pick(QCOW2);
  if (r.chance(0.25)) o['filter-node-name'] = g.fresh('c', p);
  jobArgs(g, o);
  o['auto-dismiss'] = false;
  // a commit whose base's writes may fail (ProcView.copiesMayFail) fails at a moment that races
  // the graph query (commit_run after its first read; an active commit's mirror_run when a block
  // status of its first run yields): not drawn
  if (p.chainBelow(dev).some((n) => p.copiesMayFail(n))) return undefined;
  // nor one whose reads may fail late (ProcView.readsMayFailLate): an active commit's first
  // mirror_iteration issues MAX_IN_FLIGHT (16) reads before it waits, each fails only after
  // qcow2_co_decompress's thread-pool work, and the job exits once it looks at s->ret: 16
  // BLOCK_JOB_ERROR then the abort, every time, but before or after the reply and the graph
  // query as the thread pool goes (fuzz 3981614010, recorded three times: 0, 15 and 16 errors in
  // the command's step)
  if (p.readsMayFailLate(dev)) return undefined;
  return cmd(proc, 'block-commit', o);
};

/**
 * A mirror left to run at full speed is followed by `wait ready`; QEMU fails it in mirror_run
 * instead when the sizes differ or the target cannot be written, and the wait would time out.
 * Full speed only where both ends are qcow2 nodes of the case's same-sized images, not resized
 * and writable; anything else runs at speed 1 (no wait).
 */
function fullSpeedMirrorFits(p: ProcView, device: string, target: string): boolean {
  const ok = (n: string) => p.driver(n) === 'qcow2' && !p.resized.has(n);
  const t = p.graph.nodes.find((n) => n.name === target);
  return ok(device) && ok(target) && t !== undefined && !t.ro;
}

const mirror: Production = (g, p, proc) => {
  const r = g.rng;
  const o: JsonObject = { 'job-id': g.fresh('j', p), device: g.ref(p), target: g.ref(p), sync: r.pick(['full', 'top', 'none', 'full']) };
  if (r.chance(0.2)) o['filter-node-name'] = g.fresh('m', p);
  if (r.chance(0.05)) o.granularity = r.pick([512, 65536, 1000]);
  jobArgs(g, o);
  if (o.speed === undefined && !fullSpeedMirrorFits(p, String(o.device), String(o.target))) o.speed = 1;
  // a copy into a snapshot-access node (or through a compress filter) may fail, and when the
  // job sees it races the graph query (ProcView.copiesMayFail): only sync none, which copies nothing
  if (p.copiesMayFail(String(o.target))) o.sync = 'none';
  // and so does a copy whose reads may fail late (ProcView.readsMayFailLate; fuzz 3981614010)
  if (p.readsMayFailLate(String(o.device))) o.sync = 'none';
  o['auto-dismiss'] = false;
  return cmd(proc, 'blockdev-mirror', o);
};

const jobVerb: Production = (g, p, proc) => {
  const r = g.rng;
  const jobs = [...p.jobs.keys()];
  const id = jobs.length && r.chance(0.93) ? r.pick(jobs) : 'j99';
  const verb = r.pick(['job-pause', 'job-resume', 'job-cancel', 'job-complete', 'job-finalize', 'job-dismiss',
    'block-job-pause', 'block-job-resume', 'block-job-cancel', 'block-job-complete', 'block-job-finalize', 'block-job-dismiss',
    'block-job-set-speed', 'block-job-set-speed', 'job-finalize', 'job-complete']);
  if (verb.startsWith('job-')) return cmd(proc, verb, { id });
  // A raised speed kicks a sleeping job (block_job_set_speed), which the model follows; but a speed
  // large enough to end the job's rate-limit delay within a case (1 MiB/s: ~0.5 s per stream chunk)
  // lets QEMU's job move on its own in real time, a race the model does not (and must not) follow.
  // 4096 B/s keeps the next delay at minutes (docs/fidelity.md, "Jobs: mirror progress ...").
  if (verb === 'block-job-set-speed') return cmd(proc, verb, { device: id, speed: r.pick([0, 0, 1, 4096, -1]) });
  if (verb === 'block-job-cancel' && r.chance(0.3)) return cmd(proc, verb, { device: id, force: true });
  // block-job-finalize and block-job-dismiss take the job's id, the older verbs its device
  if (verb === 'block-job-finalize' || verb === 'block-job-dismiss') return cmd(proc, verb, { id });
  return cmd(proc, verb, { device: id });
};

const objects: Production = (g, p, proc) => {
  const r = g.rng;
  const k = r.next();
  if (k < 0.4) return cmd(proc, 'object-add', { 'qom-type': 'iothread', id: r.pick(['io0', 'io1']) });
  if (k < 0.8) return cmd(proc, 'object-add', { 'qom-type': 'throttle-group', id: r.pick(['tg0', 'tg1']), limits: r.chance(0.5) ? {} : { 'bps-total': 1048576 } });
  return cmd(proc, 'object-del', { id: r.pick(['io0', 'io1', 'tg0', 'tg1']) });
};

const exportsProd: Production = (g, p, proc) => {
  const r = g.rng;
  if (!p.nbd || r.chance(0.05)) return cmd(proc, 'nbd-server-start', { addr: { type: 'unix', data: { path: `nbd-${proc}.sock` } } });
  const k = r.next();
  if (k < 0.65 || !p.exports.size) {
    const o: JsonObject = { type: 'nbd', id: g.fresh('e', p), 'node-name': g.ref(p) };
    if (r.chance(0.5)) o.writable = true;
    if (p.iothreads.size && r.chance(0.3)) {
      o.iothread = r.pick([...p.iothreads]);
      if (r.chance(0.5)) o['fixed-iothread'] = true;
    }
    return cmd(proc, 'block-export-add', o);
  }
  const o: JsonObject = { id: r.pick([...p.exports.keys()]) };
  if (r.chance(0.3)) o.mode = 'hard';
  return cmd(proc, 'block-export-del', o);
};

const setIothread: Production = (g, p, proc) => {
  const r = g.rng;
  const o: JsonObject = { 'node-name': g.ref(p), iothread: p.iothreads.size && r.chance(0.7) ? r.pick([...p.iothreads]) : null };
  if (r.chance(0.3)) o.force = true;
  return cmd(proc, 'x-blockdev-set-iothread', o);
};

const resize: Production = (g, p, proc) =>
  cmd(proc, 'block_resize', { 'node-name': g.ref(p), size: g.rng.pick([16777216, 33554432, 1048576, 16777217]) });

// Process B: a second daemon on the same files, for cross-process locking.
const addB: Production = (g, p, proc) => {
  const r = g.rng;
  const image = r.pick(QCOW2);
  const o: JsonObject = r.chance(0.5)
    ? { driver: 'qcow2', 'node-name': g.fresh('n', p), file: { driver: 'file', filename: image } }
    : { driver: 'file', 'node-name': g.fresh('f', p), filename: image };
  if (r.chance(0.5)) o['read-only'] = true;
  if (o.driver === 'qcow2' && r.chance(0.4)) o.backing = null;
  if (r.chance(0.15)) { o['force-share'] = true; o['read-only'] = true; }
  return cmd(proc, 'blockdev-add', o);
};

/** Production weights (process A). */
// The command families of oracle/fuzz/families/ (one file each) come after the core ones.
export const PRODUCTIONS_A: [Production, number][] = [
  [addQcow2, 14], [baseOptioned(addFile), 4], [baseOptioned(addRaw), 3], [baseOptioned(addNull), 2], [baseOptioned(addFilter), 5], [baseOptioned(addFormatOverFilter), 3],
  [del, 5], [reopen, 16], [snapshot, 4], [stream, 5], [commit, 5], [mirror, 4], [jobVerb, 12],
  [objects, 3], [exportsProd, 4], [setIothread, 2], [resize, 2],
  ...FAMILIES_A,
  // issue 18 part A: bitmaps, bitmap transactions, exports with bitmaps, blockdev-create, … (grammar-liba.ts)
  ...LIBA_PRODUCTIONS,
  // issue 18 part B (grammar-backup.ts)
  ...BACKUP_PRODUCTIONS,
];
const PRODUCTIONS_B: [Production, number][] = [[addB, 6], [del, 2], [reopen, 3], [resize, 1], ...FAMILIES_B];
