// blkdebug's s->state and s->active_rules (block/blkdebug.c) change when a debug event reaches the
// node (blkdebug_debug_event), e.g. raw_co_preadv's BLKDBG_READ_AIO while a qcow2 node opening
// above reads its header. Like util/id.c's counters (graph/id-counter.ts) that is outside every
// block-layer transaction: a qcow2 open that fails on the very read the event preceded leaves the
// rule active, and the next read through the node fails too. The Draft's journal would undo the
// node patch with the rest of a refused command, so what each command reached is kept here, per
// Draft, where no rollback reaches it; commands/model.ts writes it back for a refused command.
import type { Draft } from './draft.js';
import type { Proc } from './proc.js';
import { DEBUG_OPENED, type DebugCommit, type DebugNodeState, type ReadView } from './read.js';
import { sendIoEvent } from './io-events.js';

const reached = new WeakMap<Draft, Map<string, { proc: string; node: string; st: DebugNodeState }>>();

/** graph/read.ts's commit of a blkdebug node's new state: into the node, and remembered for a refusal. */
export function commitDebugState(p: Proc): DebugCommit {
  const commit = (view: ReadView, node: string, st: DebugNodeState) => {
    const q = view as Proc;
    const n = q.node(node);
    if (!n) return;
    const extra = { ...(n.extra ?? {}) };
    if (st.state === DEBUG_OPENED.state && !st.active.length && !st.removed?.length) delete extra.debug;
    else extra.debug = st;
    q.patchNode(node, { extra });
    let m = reached.get(p.d);
    if (!m) reached.set(p.d, (m = new Map()));
    m.set(`${q.name}\0${node}`, { proc: q.name, node, st });
  };
  // a real read's events go to the command's Draft (graph/io-events.ts)
  return Object.assign(commit, { io: (event: string, data: Record<string, unknown>) => sendIoEvent(p.d, event, data) });
}

/**
 * Writes the blkdebug states the command `from` reached into `to` (a refused command's residue), for
 * the nodes that exist there as blkdebug nodes (one the refused command opened itself is gone).
 * Returns whether anything changed.
 */
export function keepDebugStates(from: Draft, to: Draft, procOf: (d: Draft, name: string) => Proc): boolean {
  let changed = false;
  for (const { proc, node, st } of reached.get(from)?.values() ?? []) {
    const q = procOf(to, proc);
    const n = q.node(node);
    if (n?.driver !== 'blkdebug') continue;
    const cur = (n.extra?.debug as DebugNodeState | undefined) ?? DEBUG_OPENED;
    if (cur.state === st.state && cur.active.join() === st.active.join() && (cur.removed ?? []).join() === (st.removed ?? []).join()) continue;
    const extra = { ...(n.extra ?? {}) };
    if (st.state === DEBUG_OPENED.state && !st.active.length && !st.removed?.length) delete extra.debug;
    else extra.debug = st;
    q.patchNode(node, { extra });
    changed = true;
  }
  return changed;
}

/**
 * The blkdebug states of `p`'s nodes now, as a function that puts them back: for a look ahead at
 * a request the model issues again later (a mirror's first write, graph/jobs/mirror.ts), which
 * must not use up a `once` rule or move a state before the request itself does.
 */
export function saveDebugStates(p: Proc): () => void {
  const saved = p.nodes().filter((n) => n.driver === 'blkdebug').map((n) => [n.name, n.extra?.debug] as const);
  return () => {
    for (const [name, st] of saved) {
      const n = p.node(name);
      if (!n || n.extra?.debug === st) continue;
      const extra = { ...(n.extra ?? {}) };
      if (st === undefined) delete extra.debug;
      else extra.debug = st;
      p.patchNode(name, { extra });
    }
  };
}
