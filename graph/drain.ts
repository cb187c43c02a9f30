// Drained sections (block/io.c bdrv_drained_begin/end, bdrv_subtree_drained_begin/end, 7.2):
// while a node is drained, every parent above it is quiesced, jobs included
// (child_job_drained_begin -> job_pause); at the end of the outermost section they resume
// (child_job_drained_end -> job_resume). The model keeps no drain state: it only notes which
// jobs a command's sections paused and resumed, for the jobs' wake-ups (graph/jobs/rate.ts).
// Transient per Draft (one command), never stored.
import type { Draft } from './draft.js';
import type { Proc } from './proc.js';
import { heldDrainPausedJobs } from './jobs/held-drain.js';


interface DrainState { depth: number; current: Set<string>; wakes: string[]; outer?: Set<string> }
const DRAINS = new WeakMap<Draft, DrainState>();

/** The jobs a drain of `roots` pauses: any with an edge into the drained nodes or their ancestors. */
export function drainedJobs(p: Proc, roots: string[], subtree: boolean): string[] {
  // Only a job can be paused: without any, the walk over every ancestor (a fan-in's thousands of
  // parents) finds nothing, so it is not made.
  if (!p.d.any(p.name, 'jobs')) return [];
  const nodes = new Set<string>();
  const down = [...roots];
  while (down.length) {
    const x = down.pop()!;
    if (nodes.has(x) || !p.node(x)) continue;
    nodes.add(x);
    if (subtree) for (const e of p.childrenOf(x)) down.push(e.child);
  }
  const jobs = new Set<string>();
  const up = [...nodes];
  const seen = new Set<string>();
  while (up.length) {
    const x = up.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    for (const e of p.parents(x)) {
      if (e.parent.kind === 'node') up.push(e.parent.node);
      else if (e.parent.kind === 'job') jobs.add(e.parent.job);
      else if (e.parent.kind === 'bb') {
        const bb = p.bb(e.parent.bb);
        if (bb?.owner.kind === 'job') jobs.add(bb.owner.id);
      }
    }
  }
  return [...jobs].sort();
}

/**
 * bdrv_drained_begin/end (bdrv_subtree_drained_* when `subtree`) around `fn`: every job with a
 * node in the section is paused and, when the outermost section ends, resumed, which for a
 * sleeping speed-limited job is one wake-up. The wake-ups run when the command ends
 * (flushDrainWakes), in the order the sections ended.
 */
export function drained<T>(p: Proc, roots: (string | null | undefined)[], subtree: boolean, fn: () => T): T {
  let st = DRAINS.get(p.d);
  if (!st) DRAINS.set(p.d, (st = { depth: 0, current: new Set(), wakes: [] }));
  // a job a held drained section still pauses (graph/jobs/held-drain.ts) keeps pause_count > 0
  // when this section ends: child_job_drained_end -> job_resume does not enter it
  const jobs = drainedJobs(p, roots.filter((x): x is string => !!x), subtree);
  const held = jobs.length ? heldDrainPausedJobs(p) : undefined;
  for (const j of jobs) if (!held?.has(j) && !st.outer?.has(j)) st.current.add(j);
  st.depth++;
  try {
    return fn();
  } finally {
    st.depth--;
    // child_job_drained_end -> job_resume enters the job; on 10.0 its rate-limit sleep is
    // block_job_ratelimit_sleep, which sleeps again while the limit still asks for a delay
    // (graph/jobs/rate.ts wakeJob, rule 'wake-ends-rate-limit-sleep')
    if (st.depth === 0) {
      st.wakes.push(...st.current);
      st.current = new Set();
    }
  }
}

/**
 * A wake-up that is no temporary section's: the end of a held drained section
 * (graph/jobs/held-drain.ts) resumes the jobs it paused; they run when the command ends, after
 * the wake-ups queued before.
 */
export function queueWake(p: Proc, job: string): void {
  let st = DRAINS.get(p.d);
  if (!st) DRAINS.set(p.d, (st = { depth: 0, current: new Set(), wakes: [] }));
  st.wakes.push(job);
}

/** The jobs the command's finished sections resumed, in order (and forgets them). */
export function takeDrainWakes(p: Proc): string[] {
  const st = DRAINS.get(p.d);
  if (!st) return [];
  const w = st.wakes;
  st.wakes = [];
  return w;
}

/**
 * bdrv_drain_all (bdrv_drain_all_begin/end): every node of the process is drained, its non-BDS
 * parents quiesced (ignore_bds_parents), so every block job is paused and resumed once.
 */
export function drainAll(p: Proc): void {
  drained(p, p.nodes().map((n) => n.name), false, () => undefined);
}

/**
 * job_start: a drained section that ended before the job started resumed it without entering it
 * (job_resume_locked -> job_enter_cond_locked returns while !job_started), so it is no wake-up.
 * commit_start, for one, flips the base read-write (bdrv_reopen, drained) and appends commit_top
 * (bdrv_replace_node_common, drained) after block_job_create has made the job a parent.
 */
export function dropDrainWakes(p: Proc, job: string): void {
  const st = DRAINS.get(p.d);
  if (st) st.wakes = st.wakes.filter((j) => j !== job);
}

/**
 * `fn` runs inside a drained section held across it that pauses `jobs` (mirror_exit_common, inside
 * the section mirror_run began): their pause_count stays above 0 through every section that
 * begins and ends within, so none of those ends enters them (child_job_drained_end ->
 * job_resume); the held section's own end wakes them (graph/jobs/held-drain.ts endHeldDrain).
 */
export function underHeldSection<T>(p: Proc, jobs: string[], fn: () => T): T {
  let st = DRAINS.get(p.d);
  if (!st) DRAINS.set(p.d, (st = { depth: 0, current: new Set(), wakes: [] }));
  const before = st.outer;
  st.outer = new Set([...(before ?? []), ...jobs]);
  try {
    return fn();
  } finally {
    st.outer = before;
  }
}
