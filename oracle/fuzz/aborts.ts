// Inputs on which qemu-storage-daemon 7.2.22 is known to abort (oracle README crash list,
// docs/fidelity.md, issue 12 item 8). The generator never sends them: a dead daemon ends the
// sequence and teaches nothing new. Each rule names the crash it avoids; the model refuses all
// of these with an error that says QEMU aborts (specs/reopen/qemu-aborts.spec.ts).
import type { Json, JsonObject, Step } from '../format.js';
import { isWaitStep } from '../format.js';
import type { ProcView } from './world.js';

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every node reference (a string where a child goes) in blockdev-add options, recursively. */
function references(o: JsonObject, out: string[] = []): string[] {
  for (const [k, v] of Object.entries(o)) {
    if (['file', 'backing', 'image', 'test', 'raw'].includes(k) && typeof v === 'string') out.push(v);
    if (k === 'children' && Array.isArray(v)) for (const c of v as Json[]) { if (typeof c === 'string') out.push(c); else if (isObj(c)) references(c, out); }
    if (isObj(v)) references(v, out);
  }
  return out;
}

/** Why `step` would crash QSD 7.2 given the view of its process, or undefined when it is safe. */
export function knownAbort(step: Step, p: ProcView): string | undefined {
  if (isWaitStep(step)) return undefined;
  const a = step.arguments ?? {};
  const aio = p.inIothread();
  if (step.execute === 'blockdev-add') {
    // crash 5: a child given by reference that lives in an iothread
    const r = references(a).find((n) => aio.has(n));
    if (r) return `crash 5: blockdev-add references '${r}' in an iothread`;
  }
  // crash 7: object-del of an iothread some node is in (its AioContext freed under the node;
  // the next lock of it asserts). The view cannot tell which iothread a node is in: any.
  if (step.execute === 'object-del' && typeof a.id === 'string' && p.iothreads.has(a.id) && aio.size > 0) {
    return `crash 7: object-del of iothread '${a.id}' while nodes are in an iothread`;
  }
  // QEMU 10.0 hang: bdrv_append refreshes the old top's limits under the graph writer lock, and
  // compress_refresh_limits → bdrv_get_info waits for the reader lock forever (graph/rules.ts
  // 'append-over-compress-hangs'). 7.2 survives it, but a hung daemon stops a 10.0 run: never sent.
  // The same bdrv_append comes with blockdev-mirror / drive-mirror / an active commit (mirror_top
  // above `device`) and an intermediate commit (commit_top above `top-node`).
  const snapshotOf = (cmd: string, d: JsonObject): unknown =>
    cmd === 'blockdev-snapshot' ? d.node : cmd === 'blockdev-snapshot-sync' ? (d['node-name'] ?? d.device) : undefined;
  const snaps: unknown[] = [snapshotOf(step.execute, a)];
  if (['block-commit', 'blockdev-mirror', 'drive-mirror'].includes(step.execute)) snaps.push(a.device, a['top-node']);
  if (step.execute === 'transaction' && Array.isArray(a.actions)) {
    for (const act of a.actions) if (isObj(act) && typeof act.type === 'string' && isObj(act.data)) snaps.push(snapshotOf(act.type, act.data));
  }
  const hang = snaps.find((n) => typeof n === 'string' && p.driver(n) === 'compress');
  if (hang) return `QEMU 10.0 hang: a node appended above compress filter '${hang as string}' (bdrv_append → compress_refresh_limits under the graph writer lock)`;
  if (step.execute === 'blockdev-reopen') {
    const list = Array.isArray(a.options) ? a.options : [];
    // crash 1: assertion bs_queue != NULL
    if (list.length === 0) return 'crash 1: empty reopen list';
    for (const o of list) {
      if (!isObj(o) || typeof o['node-name'] !== 'string') continue;
      const node = o['node-name'];
      const cur = p.child(node, 'backing');
      const next = 'backing' in o ? o.backing : undefined;
      const changes = next !== cur;
      if (cur && changes) {
        // crash 2: a commit filter losing its only parent while its link is frozen
        if (p.driver(cur) === 'commit_top') return `crash 2: '${node}' moves its backing away from commit filter '${cur}'`;
        // crash 3: the old backing has its own file node as backing
        const cb = p.child(cur, 'backing');
        if (cb && cb === p.child(cur, 'file')) return `crash 3: '${node}' drops backing '${cur}' whose backing is its own file node`;
      }
      // item 8: attaching a file/backing child when the parent or the child is in an iothread
      for (const edge of ['file', 'backing']) {
        const v = o[edge];
        if (typeof v === 'string' && v !== p.child(node, edge) && (aio.has(v) || aio.has(node))) {
          return `issue 12 item 8: reopen attaches '${v}' as ${edge} of '${node}' across an iothread`;
        }
      }
    }
    const freed = closesQueued(list.filter(isObj), p);
    if (freed) return `crash 6: the reopen closes '${freed}' while it is queued itself (use after free)`;
  }
  return undefined;
}

/**
 * crash 6: QEMU 7.2 takes no reference on the nodes a blockdev-reopen queues; a child replaced
 * by the reopen whose only reference was that link is freed in tran_commit (with the children
 * only it held), and bdrv_reopen_multiple then touches it if it was queued (SIGSEGV; recorded:
 * `[a backing null, b]` with b a's inline backing). The same lists succeed when the old child
 * has another parent or a monitor reference (blockdev-add with a node-name), or is not in the
 * list. The model refuses these (graph/reopen/run.ts refuseUseAfterFree).
 */
function closesQueued(list: JsonObject[], p: ProcView): string | undefined {
  const queued = new Set(list.map((o) => o['node-name']).filter((n): n is string => typeof n === 'string'));
  const dropped = new Set<string>();
  const old: string[] = [];
  for (const o of list) {
    const node = o['node-name'];
    if (typeof node !== 'string') continue;
    for (const edge of ['file', 'backing']) {
      if (!(edge in o)) continue;
      const cur = p.child(node, edge);
      if (cur === undefined || o[edge] === cur) continue;
      dropped.add(`${node}|${edge}|${cur}`);
      old.push(cur);
    }
  }
  const closing = new Set<string>();
  const visit = (n: string): void => {
    if (closing.has(n) || p.monitorOwned.has(n)) return;
    const held = p.graph.edges.filter((e) => e.child === n && !closing.has(e.parent) && !dropped.has(`${e.parent}|${e.name}|${n}`)).length;
    if (held > 0) return;
    closing.add(n);
    for (const e of p.graph.edges) if (e.parent === n) visit(e.child);
  };
  for (const n of old) visit(n);
  return [...queued].find((n) => closing.has(n));
}
