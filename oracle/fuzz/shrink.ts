// Delta debugging (Zeller's ddmin) over the steps of a failing case: the smallest sequence whose
// run still shows the same first disagreement. A `wait` step goes with the command that started
// its job, so candidates never wait for a job that was never started.
import { isWaitStep, type Scenario, type Step } from '../format.js';
import type { Finding } from './run-case.js';

/** Same finding: category, command and (masked) message; names from the generator are masked. */
export function sameFinding(a: Finding, b: Finding): boolean {
  return a.category === b.category && a.command === b.command && a.message === b.message;
}

/** Drops wait steps whose job no kept step starts. */
export function closeDependencies(steps: Step[]): Step[] {
  const started = new Set<string>();
  const out: Step[] = [];
  for (const s of steps) {
    if (isWaitStep(s)) { if (started.has(s.wait.job)) out.push(s); continue; }
    const a = s.arguments ?? {};
    if (['block-stream', 'block-commit', 'blockdev-mirror'].includes(s.execute)) started.add(String(a['job-id'] ?? a.device));
    out.push(s);
  }
  return out;
}

export interface ShrinkOptions {
  /** Runs a candidate; the finding it shows, if any. */
  test: (s: Scenario) => Promise<Finding | undefined>;
  /** At most this many candidate runs. */
  budget?: number;
  /**
   * Asked before each candidate run: once true, the shrink ends with the smallest scenario it has
   * so far. A stopped fuzz run (SIGTERM, --time-limit) used to wait for the whole budget of the
   * finding it was shrinking (a VM case's runs are a minute each: stop 41's VM 10.0 run, seed
   * 2026120704, was killed mid-shrink and reported nothing).
   */
  shouldStop?: () => boolean;
}

export async function shrink(scenario: Scenario, target: Finding, opts: ShrinkOptions): Promise<{ scenario: Scenario; runs: number; stopped: boolean }> {
  let budget = opts.budget ?? 200;
  let runs = 0;
  let stopped = false;
  const reproduces = async (steps: Step[]): Promise<boolean> => {
    if (budget > 0 && opts.shouldStop?.()) { stopped = true; budget = 0; }
    if (budget-- <= 0) return false;
    runs++;
    const f = await opts.test({ ...scenario, steps });
    return f !== undefined && sameFinding(f, target);
  };
  // everything after the disagreeing step is irrelevant to it
  let cur = target.step >= 0 ? closeDependencies(scenario.steps.slice(0, target.step + 1)) : scenario.steps;
  let n = 2;
  while (cur.length >= 2 && budget > 0) {
    const size = Math.ceil(cur.length / n);
    let reduced = false;
    for (let i = 0; i < n && budget > 0; i++) {
      // try the complement of chunk i (the last step, where the finding shows, is always kept)
      const lo = i * size;
      const hi = Math.min(cur.length - 1, (i + 1) * size);
      if (lo >= hi) continue;
      const cand = closeDependencies([...cur.slice(0, lo), ...cur.slice(hi)]);
      if (cand.length < cur.length && await reproduces(cand)) {
        cur = cand;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(cur.length, n * 2);
    }
  }
  return { scenario: { ...scenario, steps: cur }, runs, stopped };
}
