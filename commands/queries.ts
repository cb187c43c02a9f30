import { QEMU_RELEASE, versionIn, versionOf } from '../graph/version.js';
import type { State } from '../graph/types.js';
import { isBlockJob } from '../graph/types.js';
import type { XDebugBlockGraph } from './protocol.js';
import { queryDirtyBitmaps } from '../graph/bitmaps.js';
import { permList } from '../graph/perm.js';
import type { CommandDef } from './types.js';
import { getLength } from '../graph/length.js';
import { cowBs } from '../graph/jobs/chain.js';
import { pseudoFilename } from '../graph/filename.js';
import { makeAbsoluteFilename } from '../graph/dirname.js';
import { pathCombine } from '../graph/host-path.js';
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
 * and without filter-node-name). query-block does not reach it (only monitor-owned BlockBackends).
 */
function refuseChildlessFilterQuery(p: Proc): void {
  for (const n of p.nodes()) {
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
    // xdbg_graph_node_num numbers an object at its first mention (an edge's child too);
    // xdbg_graph_add_node lists it only in its own loop: BlockBackends, jobs, then every node
    const ids = new Map<string, number>();
    const num = (key: string) => {
      let v = ids.get(key);
      if (v === undefined) { v = ids.size + 1; ids.set(key, v); }
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
    // block_job_next: BlockJobs only (a blockdev-create job is a plain Job)
    for (const j of p.jobs().filter(isBlockJob)) {
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
    return out;
  },
};

export const queryNamedBlockNodes: CommandDef = {
  name: 'query-named-block-nodes',
  mutates: false,
  run({ p }) {
    refuseChildlessFilterQuery(p);
    // bdrv_named_nodes_list() prepends each node of graph_bdrv_states: newest first
    // bs->filename: the plain name, or the json:{…} pseudo-filename bdrv_refresh_filename built
    // (the state keeps "" for those: graph/filename.ts)
    const name = (node: string): string => p.node(node)?.filename || pseudoFilename(p, node);
    return p.nodes().reverse().map((n) => { const file = name(n.name); const encrypted = (n.extra as { encrypted?: boolean } | undefined)?.encrypted === true; return {
      'node-name': n.name, drv: n.driver, ro: n.ro, file,
      // bdrv_block_device_info: the COW child's filename
      ...(cowBs(p, n.name) ? { 'backing_file': name(cowBs(p, n.name)!) } : {}),
      'backing_file_depth': 0,
      // 10.0's BlockDeviceInfo has `active` (since 10.0; bdrv_block_device_info: !bdrv_is_inactive(bs));
      // 7.2's has no such member. Found by qmp-shell -p against QSD 10.0.2 (docs/hostile.md "Stop 35").
      ...(rule(p, 'qapi-schema') === '10.0' ? { active: !n.inactive } : {}),
      // bdrv_block_device_info: bs->encrypted (block_crypto_open_generic, qcow2_do_open's crypt_method_header)
      encrypted, detect_zeroes: 'off', bps: 0, bps_rd: 0, bps_wr: 0, iops: 0, iops_rd: 0, iops_wr: 0,
      cache: { writeback: true, direct: false, 'no-flush': false }, 'write_threshold': n.writeThreshold ?? 0,
      // bdrv_block_device_info: has_dirty_bitmaps only when the list is not empty
      ...(n.bitmaps?.length ? { 'dirty-bitmaps': queryDirtyBitmaps(n) } : {}),
      // bdrv_query_image_info(): null-co/null-aio have no bdrv_get_info (no dirty-flag) and report
      // an allocated size of 0 (checked on QSD 7.2.22); members in ImageInfo schema order;
      // virtual-size is bdrv_getlength (whole sectors, a variable-length node asked again)
      image: n.driver.startsWith('null-')
        ? { filename: file, format: n.driver, 'actual-size': 0, 'virtual-size': getLength(p, n.name) }
        // bdrv_query_image_info: `encrypted` only where bs->encrypted
        : { filename: file, format: n.driver, 'virtual-size': getLength(p, n.name), ...(encrypted ? { encrypted: true } : {}), 'dirty-flag': false, ...headerBacking(p, n.name) },
    }; });
  },
};

/**
 * bdrv_query_image_info: the header's backing file as it is, and as
 * bdrv_get_full_backing_filename(bs, NULL) makes it (absent where bdrv_dirname fails: a qcow2
 * over an NBD client, quorum or blkverify with a relative name), and its format.
 */
function headerBacking(p: Proc, node: string): Record<string, string> {
  const h = p.node(node)?.header;
  if (!h?.backing) return {};
  let full: string | undefined;
  try {
    full = makeAbsoluteFilename(p, node, h.backing, pathCombine);
  } catch (e) {
    if (!(e instanceof QmpError)) throw e;
  }
  return {
    'backing-filename': h.backing,
    ...(full !== undefined ? { 'full-backing-filename': full } : {}),
    ...(h.backingFormat ? { 'backing-filename-format': h.backingFormat } : {}),
  };
}

export const queryBlockExports: CommandDef = {
  name: 'query-block-exports',
  mutates: false,
  run({ p }) {
    // QLIST_FOREACH over block_exports, where blk_exp_add puts each new export at the head
    // (QLIST_INSERT_HEAD): newest first, by when its BlockBackend was made
    const at = (x: { bb: string }) => p.bb(x.bb)?.at ?? 0;
    return p.exports().sort((a, b) => at(b) - at(a)).map((x) => ({ id: x.id, type: x.type, 'node-name': x.node, 'shutting-down': false }));
  },
};

export const queryJobs: CommandDef = {
  name: 'query-jobs',
  mutates: false,
  run({ p }) {
    // job_next_locked from NULL: the jobs list's head first, and job_create inserts at the head (newest first)
    return p.jobs().reverse().map((j) => ({
      id: j.id, type: j.type, status: j.status, 'current-progress': 0, 'total-progress': 0,
      ...(j.error ? { error: j.error } : {}),
    }));
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
