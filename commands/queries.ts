import { blockDeviceInfo } from './block-device-info.js';
import { heldStatus } from '../graph/jobs/held-drain.js';
import { jobErrorText, jobProgress } from '../graph/jobs/progress.js';
import { QEMU_RELEASE, versionIn, versionOf } from '../graph/version.js';
import type { State } from '../graph/types.js';
import { isBlockJob } from '../graph/types.js';
import type { XDebugBlockGraph } from './protocol.js';
import { permList } from '../graph/perm.js';
import type { CommandDef } from './types.js';
import { QmpError } from '../errors/index.js';
import type { Proc } from '../graph/proc.js';
import { rule } from '../graph/rules.js';
import { QemuAbortRefusal } from '../graph/qemu-abort.js';

/**
 * bdrv_named_nodes_list (block.c) runs bdrv_block_device_info (block/qapi.c) over every named
 * node: bdrv_refresh_filename, whose implicit-node branch copies from QLIST_FIRST(&bs->children),
 * then bdrv_query_image_info -> bdrv_getlength, which for copy-on-read is cor_getlength's
 * bdrv_getlength(bs->file->bs) on 7.2 (10.0 answers the length from its cache, rule
 * cor-getlength-variable-length, and dies one call later: bdrv_co_get_allocated_file_size of
 * bdrv_filter_bs(bs) = NULL dereferences its drv). A stream's filter that
 * stream_clean's bdrv_cor_filter_drop left without children while the undismissed job still holds
 * it (the job's BlockBackend keeps it alive until job-dismiss) has neither, and both dereference
 * NULL: SIGSEGV on QSD 7.2.22 and 10.0.2 alike (oracle README crash 4; probed live by stop 36 with
 * and without filter-node-name). query-block does not reach it (only monitor-owned BlockBackends):
 * its check (`only`) is over the nodes below those BlockBackends' roots (commands/vm/queries.ts).
 */
export function refuseChildlessFilterQuery(p: Proc, only?: ReadonlySet<string>): void {
  for (const n of p.nodes()) {
    if (only && !only.has(n.name)) continue;
    if ((n.implicit || n.driver === 'copy-on-read') && p.childrenOf(n.name).length === 0) {
      throw new QemuAbortRefusal(
        `Node '${n.name}' (${n.driver}) has no child left: a job that dropped it still holds it ` +
        `(QEMU crashes here: bdrv_block_device_info -> ${n.implicit ? 'bdrv_refresh_filename of an implicit node with no child'
          : rule(p, 'cor-getlength-variable-length') ? 'bdrv_query_image_info -> bdrv_getlength of copy-on-read without bs->file'
            : 'bdrv_query_image_info -> bdrv_get_allocated_file_size of the filter\'s missing child'}, segmentation fault); refused by blockgraph`,
        'bdrv_block_device_info',
      );
    }
  }
}

/** x-debug-query-block-graph: ids by first mention — BlockBackends, jobs, then nodes. */
export const xDebugQueryBlockGraph: CommandDef = {
  name: 'x-debug-query-block-graph',
  mutates: false,
  run({ p }) {
    const out: XDebugBlockGraph = { nodes: [], edges: [] };
    const ids = new Map<string, number>();
    // xdbg_graph_node_num numbers an object at its first mention (as a parent or a child), and
    // xdbg_graph_add_node lists it when the walk reaches it: BlockBackends, jobs, then
    // graph_bdrv_states (a node's file is often numbered after it and listed before it)
    const num = (key: string) => {
      let v = ids.get(key);
      if (v === undefined) {
        v = ids.size + 1;
        ids.set(key, v);
      }
      return v;
    };
    const id = (key: string, type: XDebugBlockGraph['nodes'][number]['type'], name: string) => {
      const v = num(key);
      out.nodes.push({ id: v, type, name });
      return v;
    };
    const nodeId = (n: string) => num('node:' + n);
    for (const bb of p.bbs()) {
      // bdrv_get_xdbg_block_graph: blk_name (a legacy drive's), else the attached device's id (vm target)
      const b = id('bb:' + bb.id, 'block-backend', bb.name || (bb.dev ?? ''));
      for (const e of p.children({ kind: 'bb', bb: bb.id })) {
        out.edges.push({ parent: b, child: nodeId(e.child), name: e.name, perm: permList(e.perm), 'shared-perm': permList(e.shared) });
      }
    }
    // block_job_next_locked: BlockJobs only (a blockdev-create job is a plain Job), from the jobs
    // list's head, where job_create puts each new job (QLIST_INSERT_HEAD): newest first, as
    // query-block-jobs lists them (fuzz 2604080898)
    for (const j of p.jobs().reverse().filter(isBlockJob)) {
      const jid = id('job:' + j.id, 'block-job', j.id);
      for (const e of p.children({ kind: 'job', job: j.id })) {
        out.edges.push({ parent: jid, child: nodeId(e.child), name: e.name, perm: permList(e.perm), 'shared-perm': permList(e.shared) });
      }
    }
    for (const n of p.nodes()) {
      const nid = id('node:' + n.name, 'block-driver', n.name);
      for (const e of p.childrenOf(n.name)) {
        out.edges.push({ parent: nid, child: nodeId(e.child), name: e.name, perm: permList(e.perm), 'shared-perm': permList(e.shared) });
      }
    }
    // xdbg_graph_add_node prepends (QAPI_LIST_PREPEND): the list comes out newest id first, which
    // is the order the oracle's normalizer numbers anonymous roots (#orphanN) in
    out.nodes.reverse();
    // xdbg_graph_add_edge prepends each edge too (newest first), and each permission list is
    // built by prepending in BlockPermission order: the highest bit comes first
    out.edges.reverse();
    for (const e of out.edges) { e.perm.reverse(); e['shared-perm'].reverse(); }
    return out;
  },
};

export const queryNamedBlockNodes: CommandDef = {
  name: 'query-named-block-nodes',
  mutates: false,
  run({ p, args }) {
    refuseChildlessFilterQuery(p);
    // bdrv_named_nodes_list() prepends each node of graph_bdrv_states: newest first; each one's
    // bdrv_block_device_info(NULL, bs, flat) (commands/block-device-info.ts)
    return p.nodes().reverse().map((n) => blockDeviceInfo(p, n.name, args.flat === true));
  },
};

export const queryBlockExports: CommandDef = {
  name: 'query-block-exports',
  mutates: false,
  run({ p }) {
    // QLIST_FOREACH over block_exports, where blk_exp_add puts each new export at the head
    // (QLIST_INSERT_HEAD): newest first, by when its BlockBackend was made
    const at = (x: { bb: string }) => p.bb(x.bb)?.at ?? 0;
    // `node-name`: bdrv_get_node_name(blk_bs(exp->blk)), the export's BlockBackend's node now: a
    // blockdev-snapshot over the exported node moved the BlockBackend onto the overlay
    // (bdrv_append; fuzz 1025540075)
    const root = (x: { bb: string; node: string }) => p.children({ kind: 'bb', bb: x.bb }).find((e) => e.name === 'root')?.child ?? x.node;
    return p.exports().sort((a, b) => at(b) - at(a)).map((x) => ({ id: x.id, type: x.type, 'node-name': root(x), 'shutting-down': false }));
  },
};

export const queryJobs: CommandDef = {
  name: 'query-jobs',
  mutates: false,
  run({ p }) {
    // job_next_locked from NULL: the jobs list's head first, and job_create inserts at the head (newest first)
    return p.jobs().reverse().map((j) => {
      const pr = jobProgress(p, j);
      const error = jobErrorText(j);
      return { id: j.id, type: j.type, status: heldStatus(p, j) ?? j.status, 'current-progress': pr.current, 'total-progress': pr.total, ...(error !== undefined ? { error } : {}) };
    });
  },
};

/**
 * qmp_qmp_capabilities (monitor/qmp-cmds-control.c): the model runs commands of a negotiated
 * monitor (qmp/session.ts answers the negotiation itself), whose command table is qmp_commands:
 * a second qmp_capabilities is refused with CommandNotFound (fuzz 3280301754).
 */
export const qmpCapabilities: CommandDef = {
  name: 'qmp_capabilities',
  mutates: false,
  run: () => { throw new QmpError('Capabilities negotiation is already complete, command ignored', 'CommandNotFound'); },
};
/** The version triple of the QEMU release the process `proc` of `state` models (greeting, query-version). */
export function qemuReleaseOf(state: State, proc: string): { major: number; minor: number; micro: number } {
  const r = QEMU_RELEASE[versionIn(state, proc)];
  return { major: r.major, minor: r.minor, micro: r.micro };
}

export const queryVersion: CommandDef = {
  name: 'query-version',
  mutates: false,
  // the version the process models (graph/version.ts); the package names the model
  run: ({ p }) => { const r = QEMU_RELEASE[versionOf(p)]; return { qemu: { major: r.major, minor: r.minor, micro: r.micro }, package: 'blockgraph model' }; },
};
