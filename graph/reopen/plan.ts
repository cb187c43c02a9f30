// `blockgraph plan reopen`: what a blockdev-reopen would do, computed on a throwaway Draft.
import { QmpError } from '../../errors/index.js';
import { Draft } from '../draft.js';
import { Proc } from '../proc.js';
import type { State } from '../types.js';
import { buildQueue, dependencyOrder, execute } from './run.js';

export interface ReopenPlanStep {
  step: 'prepare' | 'refresh-perms' | 'commit' | 'cleanup';
  node?: string;
  /** prepare: the read-only flag before and after; `via`: queued as an implicit child of. */
  ro?: { from: boolean; to: boolean };
  via?: string | null;
  keepOld?: boolean;
  /** prepare: QEMU's queue position (the plan may move a file child ahead, seed 000). */
  queueIndex?: number;
  /** commit/cleanup: the nodes in the order they are handled. */
  nodes?: string[];
}

export interface ReopenPlan {
  ok: boolean;
  /** QEMU's error when the reopen would be refused. */
  error: { class: string; desc: string } | null;
  /** QEMU's queue order (bdrv_reopen_queue). */
  queue: string[];
  steps: ReopenPlanStep[];
}

/** Pure: the ordered steps of a reopen of `options` in process `proc`, without applying them. */
export function planReopen(state: State, proc: string, options: readonly Record<string, unknown>[]): ReopenPlan {
  const p = new Proc(new Draft(state), proc);
  let queue: string[] = [];
  const steps: ReopenPlanStep[] = [];
  try {
    if (options.length === 0) execute(p, [], false);
    const q = buildQueue(p, options);
    queue = q.entries.map((e) => e.node);
    const order = dependencyOrder(p, q.entries);
    for (const e of order) {
      steps.push({
        step: 'prepare', node: e.node, ro: { from: p.node(e.node)!.ro, to: e.ro }, via: e.via, keepOld: e.keepOld,
        queueIndex: q.entries.indexOf(e),
      });
    }
    steps.push({ step: 'refresh-perms' });
    steps.push({ step: 'commit', nodes: order.map((e) => e.node).reverse() });
    steps.push({ step: 'cleanup', nodes: order.map((e) => e.node) });
    // The verdict, on the same throwaway Draft (QEMU's order decides the error).
    execute(p, q.entries, false);
    return { ok: true, error: null, queue, steps };
  } catch (e) {
    if (!(e instanceof QmpError)) throw e;
    return { ok: false, error: { class: e.cls, desc: e.desc }, queue, steps };
  }
}
