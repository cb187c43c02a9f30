// Job verbs chosen by the job's state (the core jobVerb draws them blindly): the verb that moves
// the job on (complete when ready, finalize when pending, dismiss when concluded, resume when
// paused) most of the time, another verb otherwise, and speed changes that let a job run out.
import { cmd, type Production } from '../production.js';

const NEXT: Record<string, string[]> = {
  running: ['job-pause', 'block-job-set-speed', 'job-cancel', 'job-complete'],
  ready: ['job-complete', 'block-job-cancel', 'job-pause', 'job-cancel'],
  paused: ['job-resume', 'job-cancel', 'job-complete', 'job-finalize'],
  standby: ['job-resume', 'job-cancel'],
  pending: ['job-finalize', 'job-cancel', 'job-dismiss'],
  concluded: ['job-dismiss', 'job-finalize', 'job-cancel'],
};

export const jobByState: Production = (g, p, proc) => {
  const r = g.rng;
  const jobs = [...p.jobs.values()];
  if (!jobs.length) return undefined;
  const job = r.pick(jobs);
  const verbs = NEXT[job.status] ?? ['job-cancel'];
  const verb = r.chance(0.7) ? verbs[0]! : r.pick(verbs);
  if (verb === 'block-job-set-speed') return cmd(proc, verb, { device: job.id, speed: r.pick([0, 1, 65536]) });
  if (verb === 'block-job-cancel') return cmd(proc, verb, { device: job.id, ...(r.chance(0.5) ? { force: true } : {}) });
  return cmd(proc, verb, { id: job.id });
};

export const JOBS: [Production, number][] = [[jobByState, 6]];
