// AioContext moves (bdrv_change_aio_context, 7.2): the whole connected component moves
// or nothing does. This first version visits the component once (edges visited set)
// and refuses on a BlockBackend that does not allow context changes.
import { QmpError } from '../errors/index.js';
import type { Proc } from './proc.js';

/** Moves `node`'s component to `ctx`; throws QEMU's error and changes nothing on refusal. */
export function moveToContext(p: Proc, node: string, ctx: string): void {
  const n = p.node(node);
  if (!n || n.aio === ctx) return;
  const seen = new Set<string>();
  const nodes: string[] = [];
  const stack = [node];
  while (stack.length) {
    const cur = stack.pop()!;
    if (seen.has(cur)) continue;
    seen.add(cur);
    const cn = p.node(cur);
    if (!cn || cn.aio === ctx) continue;
    nodes.push(cur);
    for (const e of p.parents(cur)) {
      if (e.parent.kind === 'node') stack.push(e.parent.node);
      else if (e.parent.kind === 'bb') {
        const bb = p.bb(e.parent.bb)!;
        if (!bb.allowAioChange) throw new QmpError('Cannot change iothread of active block backend');
      } else {
        for (const je of p.children(e.parent)) stack.push(je.child);
      }
    }
    for (const e of p.childrenOf(cur)) stack.push(e.child);
  }
  for (const name of nodes) p.patchNode(name, { aio: ctx });
  for (const bb of p.bbs()) {
    const root = p.children({ kind: 'bb', bb: bb.id })[0];
    if (root && seen.has(root.child) && bb.aio !== ctx) p.putBB({ ...bb, aio: ctx });
  }
}

/** As moveToContext, but a refusal is swallowed (QEMU callers that pass errp = NULL). */
export function tryMoveToContext(p: Proc, node: string, ctx: string): boolean {
  return p.d.attempt(() => moveToContext(p, node, ctx), (e) => e instanceof QmpError);
}
