// Stop 34 (issue 12, round 2): jobs steered into each state QMP can see between two commands
// before a verb is drawn. Stop 33's coverage (scripts/fuzz-coverage.ts) had job verbs going
// mostly to jobs that did not exist: 34 cells of the verb x state matrix, and waiting, standby
// and paused-by-drain never met by a verb. Each state is reached deterministically, by mechanism
// rather than timing: a backup with sync none never ends on its own (backup_run yields until it
// is cancelled), a mirror or backup left at full speed over 16 MiB of null-co zeroes reaches
// ready or pending and is waited for on its event, a grouped transaction holds its finished job
// in waiting while a sync-none partner runs (job_completed_txn_success_locked), job-pause of a
// ready job gives standby (job_pause_point_locked), a finalize with auto-dismiss off concluded,
// and on 10.0 a reopen that queues a node twice leaves it drained for good
// (graph/reopen/drain-leak.ts), so a job above it is paused by the drain, not by the user.
// Created is never visible between commands (qmp_blockdev_backup and friends start their job
// before they reply) and neither is aborting (job_completed_txn_abort_locked finishes every job of
// the transaction synchronously, job_finish_sync_locked, before the command returns).
// Once a job is in the drawn state, a verb (every job verb and block-job-* form, set-speed, and
// 10.0's block-job-change) or a graph change on its nodes (reopen, del, snapshot, set-iothread,
// export, 10.0's blockdev-set-active) is drawn.
import type { JsonObject, Step } from '../../format.js';
import type { Generator } from '../grammar.js';
import { reopenOptions } from '../grammar.js';
import { clone, cmd, type Production } from '../production.js';
import type { ProcView, TrackedJob } from '../world.js';

const SIZE = 16777216;
const is10 = (g: Generator) => g.qemu === '10.0';
export const wait = (proc: string, job: string, status: string): Step => (proc === 'A' ? { wait: { job, status } } : { proc, wait: { job, status } });

/** The states a verb can meet; 'paused-drain' is 10.0's paused under a leaked drained section. */
const STATES = ['running', 'paused', 'ready', 'standby', 'waiting', 'pending', 'concluded', 'paused-drain'] as const;
type Target = typeof STATES[number];

const VERBS = ['job-pause', 'job-resume', 'job-cancel', 'job-complete', 'job-finalize', 'job-dismiss',
  'block-job-pause', 'block-job-resume', 'block-job-cancel', 'block-job-complete', 'block-job-finalize', 'block-job-dismiss', 'block-job-set-speed'];

/** A fresh null-co node of SIZE reading zeroes (the same size on both ends of a copy). */
function nullNode(g: Generator, p: ProcView, proc: string, name: string): Step {
  return cmd(proc, 'blockdev-add', { driver: g.rng.chance(0.8) ? 'null-co' : 'null-aio', 'node-name': name, size: SIZE, 'read-zeroes': true });
}

/** The steps that leave a job `id` in state `t` (the first ones open fresh nodes for it). */
function steer(g: Generator, p: ProcView, proc: string, t: Target, id: string): Step[] {
  const r = g.rng;
  const src = g.fresh('n', p); const tgt = g.fresh('n', p);
  const steps: Step[] = [nullNode(g, p, proc, src), nullNode(g, p, proc, tgt)];
  const autoDismiss = r.chance(0.5);
  const filter: JsonObject = r.chance(0.3) ? { 'filter-node-name': g.fresh('s', p) } : {};
  // a backup that never ends on its own (sync none): running until cancelled
  const forever = (job: string, s: string, d: string): Step => cmd(proc, 'blockdev-backup', { 'job-id': job, device: s, target: d, sync: 'none', 'auto-finalize': false, 'auto-dismiss': autoDismiss, ...filter });
  switch (t) {
    case 'running': case 'paused': case 'paused-drain': {
      // not a speed-limited mirror: its first iteration may copy the whole buffer (16 MiB) of
      // zeroes before the rate limit sleeps, and then it is ready, a race
      steps.push(forever(id, src, tgt));
      if (t === 'paused') steps.push(cmd(proc, r.chance(0.5) ? 'job-pause' : 'block-job-pause', r.chance(0.5) ? { id } : { device: id }), wait(proc, id, 'paused'));
      if (t === 'paused-drain') {
        // bdrv_reopen_queue_child drains the node each time it is queued (10.0): listed twice,
        // one section is never ended and the job's child_job_drained_begin pauses it for good
        const o = { driver: 'null-co', 'node-name': src, size: SIZE, 'read-zeroes': true };
        steps.splice(0, 1, cmd(proc, 'blockdev-add', o));
        steps.push(cmd(proc, 'blockdev-reopen', { options: [o, clone(o)] }), wait(proc, id, 'paused'));
      }
      return steps;
    }
    case 'ready': case 'standby': {
      // unlimited: Generator.followUp queues the wait for ready
      steps.push(cmd(proc, 'blockdev-mirror', { 'job-id': id, device: src, target: tgt, sync: r.pick(['full', 'top', 'none']), 'auto-finalize': false, 'auto-dismiss': autoDismiss, ...filter }));
      if (t === 'standby') steps.push(cmd(proc, r.chance(0.5) ? 'job-pause' : 'block-job-pause', r.chance(0.5) ? { id } : { device: id }), wait(proc, id, 'standby'));
      return steps;
    }
    case 'waiting': {
      // completion-mode grouped: the copying backup finishes and waits for its partner, a
      // sync-none backup that runs until cancelled (Generator.followUp waits for 'waiting')
      const s2 = g.fresh('n', p); const t2 = g.fresh('n', p);
      steps.push(nullNode(g, p, proc, s2), nullNode(g, p, proc, t2));
      const partner = g.fresh('j', p);
      const actions: JsonObject[] = [
        { type: 'blockdev-backup', data: { 'job-id': id, device: src, target: tgt, sync: 'full', 'auto-finalize': r.chance(0.5), 'auto-dismiss': autoDismiss } },
        { type: 'blockdev-backup', data: { 'job-id': partner, device: s2, target: t2, sync: 'none', 'auto-finalize': false, 'auto-dismiss': autoDismiss } },
      ];
      if (r.chance(0.5)) actions.reverse();
      steps.push(cmd(proc, 'transaction', { actions, properties: { 'completion-mode': 'grouped' } }));
      return steps;
    }
    case 'pending': case 'concluded': {
      // unlimited copy, auto-finalize off: Generator.followUp waits for pending
      if (r.chance(0.5)) steps.push(cmd(proc, 'blockdev-backup', { 'job-id': id, device: src, target: tgt, sync: 'full', 'auto-finalize': false, 'auto-dismiss': false, ...filter }));
      else steps.push(cmd(proc, 'blockdev-mirror', { 'job-id': id, device: src, target: tgt, sync: 'full', 'auto-finalize': false, 'auto-dismiss': false, ...filter }),
        cmd(proc, r.chance(0.5) ? 'job-complete' : 'block-job-complete', r.chance(0.5) ? { id } : { device: id }), wait(proc, id, 'pending'));
      if (t === 'concluded') {
        if (r.chance(0.5)) steps.push(cmd(proc, r.chance(0.5) ? 'job-finalize' : 'block-job-finalize', { id }));
        else steps.push(cmd(proc, r.chance(0.5) ? 'job-cancel' : 'block-job-cancel', r.chance(0.5) ? { id } : { device: id }), wait(proc, id, 'concluded'));
      }
      return steps;
    }
  }
}

/** The nodes a job's verbs and graph changes may name: its device, its filter, any other. */
function jobNode(g: Generator, p: ProcView, job: TrackedJob): string {
  const r = g.rng;
  const k = r.next();
  if (k < 0.5) return job.device;
  if (k < 0.7 && job.filter) return job.filter;
  return g.ref(p);
}

/** A verb or a graph change aimed at `job` in whatever state it is in now. */
function act(g: Generator, p: ProcView, proc: string, job: TrackedJob): Step {
  const r = g.rng;
  if (r.chance(0.7)) {
    if (is10(g) && r.chance(0.1)) {
      const o: JsonObject = { id: job.id, type: r.pick(['mirror', 'mirror', 'backup', 'commit']) };
      if (o.type === 'mirror') o['copy-mode'] = r.pick(['write-blocking', 'background']);
      return cmd(proc, 'block-job-change', o);
    }
    const verb = r.pick(VERBS);
    if (verb === 'block-job-set-speed') return cmd(proc, verb, { device: job.id, speed: r.pick([0, 1, 4096, -1]) });
    if (verb === 'block-job-cancel') return cmd(proc, verb, { device: job.id, ...(r.chance(0.5) ? { force: r.chance(0.7) } : {}) });
    if (verb === 'block-job-finalize' || verb === 'block-job-dismiss' || verb.startsWith('job-')) return cmd(proc, verb, { id: job.id });
    return cmd(proc, verb, { device: job.id });
  }
  const node = jobNode(g, p, job);
  const k = r.next();
  if (k < 0.3) return cmd(proc, 'blockdev-reopen', { options: [reopenOptions(g, p, node)] });
  if (k < 0.45) return cmd(proc, 'blockdev-del', { 'node-name': node });
  if (k < 0.6) {
    const overlays = p.named().filter((n) => p.driver(n) === 'qcow2' && !p.child(n, 'backing'));
    return cmd(proc, 'blockdev-snapshot', { node, overlay: overlays.length ? r.pick(overlays) : g.ref(p) });
  }
  if (k < 0.72) return cmd(proc, 'x-blockdev-set-iothread', { 'node-name': node, iothread: p.iothreads.size ? r.pick([...p.iothreads]) : r.pick(['io0', null]), ...(r.chance(0.3) ? { force: true } : {}) });
  if (k < 0.85 && p.nbd) return cmd(proc, 'block-export-add', { type: 'nbd', id: g.fresh('e', p), 'node-name': node, ...(r.chance(0.5) ? { writable: true } : {}) });
  if (k < 0.85) return cmd(proc, 'nbd-server-start', { addr: { type: 'unix', data: { path: `nbd-${proc}.sock` } } });
  if (is10(g) && k < 0.93) return cmd(proc, 'blockdev-set-active', { 'node-name': node, active: r.chance(0.5) });
  return cmd(proc, 'query-block-jobs', {});
}

const stateOf = (j: TrackedJob) => j.status;

export const jobInState: Production = (g, p, proc) => {
  const r = g.rng;
  if (g.inSeq()) return undefined;
  const states = STATES.filter((s) => s !== 'paused-drain' || is10(g));
  const t = r.pick(states);
  const want = t === 'paused-drain' ? 'paused' : t;
  const there = [...p.jobs.values()].filter((j) => stateOf(j) === want);
  if (there.length && r.chance(0.85)) return act(g, p, proc, r.pick(there));
  // a job of this process in any state gets a verb or change now and then too
  const any = [...p.jobs.values()];
  if (any.length && r.chance(0.25)) return act(g, p, proc, r.pick(any));
  return g.seq(steer(g, p, proc, t, g.fresh('j', p)));
};

export const JOB_STATES: [Production, number][] = [[jobInState, 12]];
