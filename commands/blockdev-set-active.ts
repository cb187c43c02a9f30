// blockdev-set-active (QEMU 10.0, blockdev.c qmp_blockdev_set_active; the 7.2 schema has no
// such command: graph/rules.ts qapi-schema). With a node name: bdrv_activate / bdrv_inactivate
// of that node; without: bdrv_activate_all / bdrv_inactivate_all (graph/inactive.ts).
import { QmpError } from '../errors/index.js';
import { bdrvActivate, bdrvInactivate, setActiveAll } from '../graph/inactive.js';
import { QmpErrorAfterAbort } from '../graph/abort-residue.js';
import { QemuAbortRefusal } from '../graph/qemu-abort.js';
import type { Proc } from '../graph/proc.js';
import type { CommandDef } from './types.js';

/**
 * bdrv_inactivate_all and bdrv_inactivate undo nothing when bdrv_inactivate_recurse fails: the
 * walk breaks at the first -EPERM and the nodes it already inactivated stay inactive, the
 * BlockBackends blk_root_inactivate already disabled stay at 0/ALL (fuzz --qemu 10.0 3406071331:
 * qcow2 nodes walked before a copy-before-write whose target link still needs write; VM fuzz
 * 2026121037: a scsi-hd's BlockBackend before an active commit's job BlockBackend). The refusal
 * keeps that partial state as its residue: the same walk, run again on the pre-command state
 * (deterministic: the same order, the same refusal), its error dropped. A walk that refuses
 * before changing anything (bdrv_inactivate's "Node has active parent node", a first node that
 * refuses at once) leaves an empty residue: a plain refusal (commands/model.ts afterAbort).
 * bdrv_activate_all and bdrv_activate are no transaction either: the nodes activated before the
 * one whose bdrv_refresh_perms fails stay active (graph/inactive.ts bdrvActivate).
 */
function keepingPartial(p: Proc, walk: (q: Proc) => void): void {
  try {
    walk(p);
  } catch (e) {
    if (!(e instanceof QmpError) || e instanceof QmpErrorAfterAbort || e instanceof QemuAbortRefusal) throw e;
    throw new QmpErrorAfterAbort(e.desc, e.cls, (q) => {
      try { walk(q); } catch (x) { if (!(x instanceof QmpError) || x instanceof QemuAbortRefusal) throw x; }
    });
  }
}

export const blockdevSetActive: CommandDef = {
  name: 'blockdev-set-active',
  mutates: true,
  run({ p, args }) {
    const active = args.active === true;
    if (args['node-name'] === undefined) {
      keepingPartial(p, (q) => setActiveAll(q, active));
      return {};
    }
    const name = String(args['node-name']);
    if (!p.node(name)) throw new QmpError(`Failed to find node with node-name='${name}'`);
    keepingPartial(p, (q) => (active ? bdrvActivate(q, name) : bdrvInactivate(q, name)));
    return {};
  },
};
