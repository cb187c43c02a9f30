import { QmpError } from '../errors/index.js';
import { openResidue, openRoot, withAttachLog } from '../graph/open.js';
import { QmpErrorAfterAbort } from '../graph/abort-residue.js';
import { QemuAbortRefusal } from '../graph/qemu-abort.js';
import type { CommandDef } from './types.js';
import { Draft } from '../graph/draft.js';
import { Proc } from '../graph/proc.js';

/** qmp_blockdev_add: the root must be named; the monitor keeps the new node's reference. */
export const blockdevAdd: CommandDef = {
  name: 'blockdev-add',
  mutates: true,
  run({ p, args }) {
    if (args['node-name'] === undefined) throw new QmpError("'node-name' must be specified for the root node");
    p.step('open');
    // a failed open keeps the refreshes of the existing nodes it attached (graph/open.ts openResidue)
    const attached: string[] = [];
    let n;
    try {
      n = withAttachLog(attached, () => openRoot(p, args));
    } catch (e) {
      if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal || !attached.length) throw e;
      // mostly the refreshes change nothing (no stale perms below): then it is a plain refusal
      if (!(e instanceof QmpErrorAfterAbort) && !residueChanges(p, attached)) throw e;
      const before = e instanceof QmpErrorAfterAbort ? e.residue : undefined;
      throw new QmpErrorAfterAbort(e.desc, e.cls, (q) => { before?.(q); openResidue(q, attached); });
    }
    p.step('monitor-ref');
    p.patchNode(n.name, { monitor: true });
    return {};
  },
};

/** Whether openResidue would change the state the command started from. */
function residueChanges(p: Proc, attached: readonly string[]): boolean {
  const d = new Draft(p.d.base);
  openResidue(new Proc(d, p.name), attached);
  return d.steps().some((st) => st.changes.length > 0);
}
