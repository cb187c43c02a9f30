// Inputs on which qemu-storage-daemon 7.2.22 is known to abort (oracle README crash list,
// docs/fidelity.md, issue 12 item 8). The generator never sends them: a dead daemon ends the
// sequence and teaches nothing new. Each rule names the crash it avoids; the model refuses all
// of these with an error that says QEMU aborts (specs/reopen/qemu-aborts.spec.ts; the fuzzer's own
// finds: specs/oracle/fuzz-aborts.spec.ts).
import { rootOf } from './hmp-equivalent.js';
import type { Json, JsonObject, Step } from '../format.js';
import { isWaitStep } from '../format.js';
import { type ProcView } from './world.js';

/** The header backing files of the fuzz images as recorded (oracle/fuzz/grammar.ts FUZZ_IMAGES). */
const FUZZ_HEADER_BACKING: Record<string, string | undefined> = { 'top.qcow2': 'mid.qcow2', 'mid.qcow2': 'base.qcow2' };

/** Filters whose filtered child is their `file` link (bdrv_filter_child of a stream's path). */
const FILE_FILTERS = new Set(['blklogwrites', 'throttle', 'copy-on-read', 'preallocate', 'compress', 'copy-before-write', 'blkdebug', 'blkverify', 'blkreplay']);

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every node reference (a string where a child goes) in blockdev-add options, recursively. */
export function references(o: JsonObject, out: string[] = []): string[] {
  for (const [k, v] of Object.entries(o)) {
    // copy-before-write's `target` and qcow2's `data-file` are attached like `file` (bdrv_open_child;
    // fuzz 1972411501: a cbw whose target was moved to io0)
    // fuzz 2348181939: blklogwrites' `log` too (blk_log_writes_open: bdrv_open_child "log"), and
    // 10.0 luks's detached `header` (block_crypto_open_generic: bdrv_open_child "header")
    if (['file', 'backing', 'image', 'test', 'raw', 'target', 'data-file', 'log', 'header'].includes(k) && typeof v === 'string') out.push(v);
    if (k === 'children' && Array.isArray(v)) for (const c of v as Json[]) { if (typeof c === 'string') out.push(c); else if (isObj(c)) references(c, out); }
    if (isObj(v)) references(v, out);
  }
  return out;
}

/**
 * fuzz --against vm 2789084143: a writer (a copy-before-write `target`, a read-write node over
 * it, a disk) attached to the source, target or backing of a mirror / active commit whose mirror_top
 * carries a BlockBackend that shares no write (a disk without share-rw): when the job ends
 * (job-finalize after a completion, a cancel), mirror_exit_common's
 * bdrv_replace_node(mirror_top_bs, …, &error_abort) puts that BlockBackend next to the writer
 * and QEMU dies. Avoided where it is set up (the job may end at any later step).
 */
function writerUnderStoppedFilter(a: JsonObject, p: ProcView): string | undefined {
  if (a.driver !== 'copy-before-write' && a['read-only'] === true) return undefined;
  const refs = references(a);
  if (!refs.length) return undefined;
  const edges = p.graph.edges;
  for (const mt of edges.filter((e) => e.name === 'main node')) {
    if (p.driver(mt.child) !== 'mirror_top') continue;
    const strict = edges.some((e) => e.child === mt.child && /^(dev|bb):/.test(e.parent) && !e.shared.includes('write'));
    if (!strict) continue;
    const job = mt.parent;
    const under = new Set(edges.filter((e) => (e.parent === job && (e.name === 'source' || e.name === 'target')) || (e.parent === mt.child && e.name === 'backing')).map((e) => e.child));
    const r = refs.find((n) => under.has(n));
    if (r) return `fuzz 2789084143: a writer over '${r}' under job filter '${mt.child}', whose device shares no write (mirror_exit_common's bdrv_replace_node(mirror_top_bs, …, &error_abort) aborts when the job ends)`;
  }
  // the same abort one level down (recording vm-combo-virtio-throttle-active-commit on 10.0, where
  // scsi-hd meets no dataplane blocker; 7.2 dies the same with a virtio-blk): a writer on the
  // backing file of the job's target, which the target's backing edge shares while nothing writes
  // the target; when the job ends (finalize or cancel) the target gains a writer and its backing
  // edge unshares write (bdrv_default_perms_for_cow): abort-24-vm-commit-finalize-disk-on-target-backing
  for (const mt of edges.filter((e) => e.name === 'main node')) {
    if (p.driver(mt.child) !== 'mirror_top') continue;
    const writes = edges.some((e) => e.child === mt.child && /^(dev|bb):/.test(e.parent) && e.perm.includes('write'));
    if (!writes) continue;
    const job = mt.parent;
    const targets = edges.filter((e) => e.parent === job && e.name === 'target').map((e) => e.child);
    const below = new Set(edges.filter((e) => targets.includes(e.parent) && e.name === 'backing').map((e) => e.child));
    const r = refs.find((n) => below.has(n));
    if (r) return `fuzz 2789084143: a writer over '${r}', the backing file of job '${job}''s target, while a device writes through job filter '${mt.child}' (when the job ends the target is written and unshares write on it: mirror_exit_common's bdrv_replace_node(mirror_top_bs, …, &error_abort) aborts)`;
  }
  return undefined;
}

/** Why `step` would crash QSD 7.2 given the view of its process, or undefined when it is safe. */
/** A child given inline as a null node that reads zeroes (blkverify's safe form). */
const zeroNull = (v: unknown): boolean => isObj(v) && (v.driver === 'null-co' || v.driver === 'null-aio') && v['read-zeroes'] === true;

/** `node` and every node below it by any link, in the view's graph. */
function belowThrough(node: string, p: ProcView): string[] {
  const seen = new Set<string>([node]);
  const todo = [node];
  for (let n = todo.pop(); n !== undefined; n = todo.pop()) {
    for (const e of p.graph.edges) if (e.parent === n && !seen.has(e.child)) { seen.add(e.child); todo.push(e.child); }
  }
  return [...seen];
}

export function knownAbort(step: Step, p: ProcView): string | undefined {
  if (isWaitStep(step)) return undefined;
  const a = step.arguments ?? {};
  const aio = p.inIothread();
  if (step.execute === 'blockdev-add') {
    // crash 5: a child given by reference that lives in an iothread
    const r = references(a).find((n) => aio.has(n));
    if (r) return `crash 5: blockdev-add references '${r}' in an iothread`;
    // wt-iot7: a null-co/null-aio node with a negative size (null_file_open absorbs its options
    // with &error_abort; parse_option_size refuses the number), at any depth of the options
    const negNull = (o: JsonObject): boolean => Object.values(o).some((v) => isObj(v) && negNull(v) || Array.isArray(v) && v.some((c) => isObj(c) && negNull(c)))
      || ((o.driver === 'null-co' || o.driver === 'null-aio') && typeof o.size === 'number' && o.size < 0);
    if (negNull(a)) return 'issue 12 item 8: blockdev-add of a null driver node with a negative size (null_file_open: qemu_opts_absorb_qdict with &error_abort)';
    // stop 36 (wt-combo8): a file node whose pr-manager is no pr-manager-helper object (raw_open_common's
    // fail path closes fd 0, the daemon's stdin; 7.2 and 10.0 die): never sent, at any depth
    const prMgr = (o: JsonObject): boolean => Object.values(o).some((v) => isObj(v) && prMgr(v) || Array.isArray(v) && v.some((c) => isObj(c) && prMgr(c)))
      || (o.driver === 'file' && o['pr-manager'] !== undefined);
    if (prMgr(a)) return 'stop 36: blockdev-add of a file node with a pr-manager (raw_open_common closes fd 0 when pr_manager_lookup fails)';
    const w = writerUnderStoppedFilter(a, p);
    if (w) return w;
    // fuzz 2258166518 (stop 34): blkverify_co_preadv compares each read of its `test` and `raw`
    // children and ends QEMU on the first mismatch (blkverify_err: exit(1), by design). Only a
    // blkverify whose two children are null nodes reading zeroes of one size is sent.
    const badVerify = (o: JsonObject): boolean => Object.values(o).some((v) => isObj(v) && badVerify(v) || Array.isArray(v) && v.some((c) => isObj(c) && badVerify(c)))
      || (o.driver === 'blkverify' && !(zeroNull(o.test) && zeroNull(o.raw) && (o.test as JsonObject).size === (o.raw as JsonObject).size));
    if (badVerify(a)) return 'fuzz 2258166518: blockdev-add of a blkverify whose children may read differently (blkverify_err ends QEMU: exit(1))';
  }
  // stop 41 (wt-ioth12; 7.2 hangs, graph/rules.ts 'mirror-replace-close-iothread-hangs'): a mirror
  // whose `replaces` names another node than its device, the device in an iothread: completed, its
  // bdrv_unref(s->to_replace) may free that node and flush it with the iothread's lock held twice.
  // The view does not know the version nor who else refers to the node: no such mirror is sent.
  if ((step.execute === 'blockdev-mirror' || step.execute === 'drive-mirror') && typeof a.replaces === 'string'
    && a.replaces !== a.device && typeof a.device === 'string' && aio.has(a.device)) {
    return `stop 41: ${step.execute} of '${a.device}' in an iothread replacing '${a.replaces}' (QEMU 7.2 hangs once it completes: mirror_exit_common frees the replaced node with the AioContext held twice)`;
  }
  // fuzz 329040125 (stop 41; 7.2 and 10.0 die alike): a job that writes into a blkverify node (or
  // through nodes above one) writes zeroes there for the zero clusters of its source (block-copy
  // and mirror ask block status and call bdrv_co_pwrite_zeroes): blkverify_open sets
  // bs->supported_zero_flags (BDRV_REQ_WRITE_UNCHANGED) without a .bdrv_co_pwrite_zeroes, so
  // bdrv_co_do_pwrite_zeroes' fallback asserts `!bs->supported_zero_flags' and QEMU dies in the
  // job's coroutine. No backup or mirror into, and no commit or stream within, a subtree that has
  // a blkverify node.
  const written = step.execute === 'blockdev-backup' || step.execute === 'blockdev-mirror' ? a.target
    : step.execute === 'block-commit' || step.execute === 'block-stream' ? a.device : undefined;
  if (typeof written === 'string' && p.graph) {
    const v = belowThrough(written, p).find((n) => p.driver(n) === 'blkverify');
    if (v) return `fuzz 329040125: ${step.execute} writing into '${written}', over blkverify node '${v}' (bdrv_co_do_pwrite_zeroes: Assertion '!bs->supported_zero_flags' failed)`;
  }
  // fuzz 1295196418 (stop 34; 7.2 and 10.0 die alike): blockdev-create qed through a node under a
  // backup's copy-before-write filter: bdrv_qed_co_create truncates the image to 0, shrinking the
  // source below the filter, and its header writes then go through cbw_do_copy_before_write past
  // the end of the shrunk bitmap (hbitmap_set: Assertion `last < hb->size' failed). Avoided for
  // every format created through such a filter (the others truncate or write past ends too).
  if (step.execute === 'blockdev-create' && isObj(a.options) && a.options.driver !== 'file' && typeof a.options.file === 'string') {
    const cbw = belowThrough(a.options.file, p).find((n) => p.driver(n) === 'copy-before-write');
    if (cbw) return `fuzz 1295196418: blockdev-create ${String(a.options.driver)} through copy-before-write filter '${cbw}' (QEMU aborts: hbitmap_set past the shrunk source's bitmap)`;
  }
  // fuzz 3456471345 (stop 38; 7.2 and 10.0 die alike): blockdev-create through a dynamic vpc node
  // of size 0: the header write at 0 passes its block table (vpc.c alloc_block: Assertion
  // `s->pagetable[index] == 0xFFFFFFFF'; commands/blockdev-create.ts refuseCreateIntoEmptyVpc).
  // The view does not know node sizes: no create is sent over a vpc node at all
  if (step.execute === 'blockdev-create' && isObj(a.options) && a.options.driver !== 'file' && typeof a.options.file === 'string' && p.driver(a.options.file) === 'vpc') {
    return `fuzz 3456471345: blockdev-create ${String(a.options.driver)} through vpc node '${a.options.file}' (QEMU aborts in vpc.c alloc_block when the node is empty)`;
  }
  // fuzz 3033561078 (stop 38, wt-fz18; 7.2 and 10.0 die alike; the model refuses it since stop 39,
  // graph/held-overlay-lock.ts; docs/fidelity.md "Stop 38's fresh runs", "Stop 39"): a failed transaction whose later blockdev-snapshot-sync opened an existing image file
  // another node of the graph opens: the later overlay is unref'd only in the clean phase, so when an
  // earlier external_snapshot_abort gives its old node write back (bdrv_replace_node(..., &error_abort))
  // that overlay's file node still holds the file's write lock: "Unexpected error in
  // raw_check_lock_bytes(): Failed to get "write" lock". Avoided: any transaction with two external
  // snapshot actions whose later snapshot-sync (mode existing) names a file a node of the graph opens
  if (step.execute === 'transaction' && Array.isArray(a.actions)) {
    const acts = a.actions.filter(isObj);
    const opened = new Set((p.graph?.nodes ?? []).map((n) => n.file).filter((f): f is string => typeof f === 'string'));
    const snaps = acts.map((x, i) => ({ x, i })).filter(({ x }) => x.type === 'blockdev-snapshot-sync' || x.type === 'blockdev-snapshot');
    const later = snaps.slice(1).find(({ x }) => x.type === 'blockdev-snapshot-sync' && isObj(x.data) && x.data.mode === 'existing'
      && typeof x.data['snapshot-file'] === 'string' && opened.has(x.data['snapshot-file']));
    if (later) return `fuzz 3033561078: a transaction whose later blockdev-snapshot-sync opens '${String((later.x.data as JsonObject)['snapshot-file'])}', which a node of the graph opens (QEMU aborts in external_snapshot_abort if it fails: raw_check_lock_bytes)`;
  }
  // stop 34 (7.2 and 10.0 die alike): blockdev-create of a split or flat vmdk of size 0 without
  // extents writes a descriptor that lists no extent (vmdk_co_do_create: created_size 0, the loop
  // over extents never runs); opening it dies in vmdk_get_info (Assertion `s->num_extents').
  // Avoided at the create: the open may come at any later step.
  if (step.execute === 'blockdev-create' && isObj(a.options) && a.options.driver === 'vmdk' && a.options.size === 0
    && /^twoGbMaxExtent|Flat$/.test(String(a.options.subformat ?? '')) && !(Array.isArray(a.options.extents) && a.options.extents.length)) {
    return `stop 34: blockdev-create of an empty ${String(a.options.subformat)} vmdk without extents (QEMU dies opening it: 7.2 vmdk_get_info, 10.0 vmdk_co_get_info: Assertion 's->num_extents' failed)`;
  }
  // fuzz --against vm 1394297969 (7.2; rule 'aio-context-lock-aborts', graph/preallocate-truncate.ts):
  // a reopen that takes write or resize from a preallocate filter in an iothread that has
  // preallocated (an internal snapshot's metadata passed the file's end) truncates the
  // preallocation in bdrv_reopen_multiple's permission refresh without that iothread's lock.
  // The view knows neither the permissions nor whether the write preallocated: every command that
  // reopens (external_snapshot_commit, the jobs' bdrv_reopen_set_read_only, blockdev-reopen) while
  // such a filter may be in an iothread
  const reopens = ['blockdev-snapshot', 'blockdev-snapshot-sync', 'blockdev-reopen', 'change-backing-file', 'block-commit', 'block-stream',
    'job-finalize', 'job-complete', 'job-cancel', 'block-job-finalize', 'block-job-complete', 'block-job-cancel'];
  const snapAction = step.execute === 'transaction' && Array.isArray(a.actions)
    && (a.actions as Json[]).some((x) => isObj(x) && (x.type === 'blockdev-snapshot' || x.type === 'blockdev-snapshot-sync'));
  // (a transaction's own internal snapshots write before its external snapshot's commit: fuzz 1394297969)
  const txnPre = snapAction ? (a.actions as Json[]).flatMap((x) => (isObj(x) && x.type === 'blockdev-snapshot-internal-sync' && isObj(x.data) && typeof x.data.device === 'string' ? p.preallocatesBelow(x.data.device) : [])) : [];
  const pre = [...(p.preallocated ?? []), ...txnPre];
  if (pre.length && (reopens.includes(step.execute) || snapAction)) {
    const names = new Set(p.graph.nodes.map((n) => n.name));
    const f = pre.find((n) => names.has(n) && aio.has(n));
    if (f) return `fuzz 1394297969: ${step.execute} while preallocate filter '${f}', which may have preallocated, may be in an iothread (7.2: bdrv_reopen_multiple -> preallocate_check_perm -> bdrv_truncate polls it without the iothread's lock)`;
  }
  // fuzz 1301381308 (7.2; rule 'aio-context-lock-aborts', commands/x-blockdev-change.ts
  // refuseDelChildInIothread): x-blockdev-change removing a child of a quorum in an iothread
  // moves the child back to the main loop (quorum_del_child -> bdrv_unref_child ->
  // bdrv_detach_child -> bdrv_try_change_aio_context) without that iothread's lock:
  // qemu_mutex_unlock_impl aborts. The view does not know whether the child can move: any removal
  // under a parent that may be in an iothread (a refused iothread export leaves it there too)
  if (step.execute === 'x-blockdev-change' && a.child !== undefined && typeof a.parent === 'string' && aio.has(a.parent)) {
    return `fuzz 1301381308: x-blockdev-change removing child '${String(a.child)}' of '${a.parent}' in an iothread (7.2: bdrv_detach_child moves it to the main loop without the iothread's lock)`;
  }
  // the same with a disk as the writer (its BlockBackend on a node under the filter)
  if (step.execute === 'device_add' && typeof a.drive === 'string' && a.driver !== 'scsi-cd') {
    const w = writerUnderStoppedFilter({ file: a.drive }, p);
    if (w) return w;
  }
  // fuzz 3824531501 (7.2, graph/rules.ts 'stream-prepare-diamond-asserts'): finalizing a stream
  // re-attaches its base, and a node reached by two paths below it aborts QEMU 7.2. The view does
  // not know the base nor the version: any node reached twice below the stream's device. (An
  // auto-finalized stream ends by itself and is not covered.)
  if ((step.execute === 'job-finalize' || step.execute === 'block-job-finalize') && typeof a.id === 'string') {
    const j = p.jobs.get(a.id);
    const twice = j?.kind === 'stream' ? reachedTwice(j.device, p) : undefined;
    if (twice) return `fuzz 3824531501: job-finalize of stream '${a.id}' with node '${twice}' reached by two paths below '${j!.device}'`;
  }
  // fuzz 2430494153 (7.2; the model refuses it: graph/ops.ts refuseCloseWithAnonBitmap): a
  // reopen that takes a child link away from a node holding an anonymous bitmap (a
  // copy-before-write filter's block-copy bitmap stays on the node it was opened over, even after
  // blockdev-snapshot moved the filter's link to an overlay) frees that node when nothing else
  // holds it, and bdrv_close asserts QLIST_EMPTY(&bs->dirty_bitmaps): a link from such a node
  // that is neither monitor-owned nor held by another parent (a job's, a filter's).
  if (step.execute === 'blockdev-reopen' && Array.isArray(a.options)) {
    const edges = p.graph?.edges ?? [];
    const held = (n: string, by: string) => !p.monitorOwned.has(n) && !edges.some((x) => x.child === n && x.parent !== by)
      && (p.graph?.nodes ?? []).some((x) => x.name === n && (x.bitmaps ?? []).some((b) => b.startsWith('(anonymous)')));
    for (const o of (a.options as Json[]).filter(isObj)) {
      const node = typeof o['node-name'] === 'string' ? o['node-name'] : undefined;
      if (node === undefined) continue;
      for (const e of edges.filter((x) => x.parent === node && held(x.child, node))) {
        if (e.name in o && o[e.name] !== e.child) return `fuzz 2430494153: blockdev-reopen of '${node}' that may drop its ${e.name} '${e.child}', which holds an anonymous (block-copy) bitmap (7.2: bdrv_close: Assertion \`QLIST_EMPTY(&bs->dirty_bitmaps)' failed)`;
      }
    }
  }
  // stop 41 (wt-combo13; 7.2, the model refuses it: graph/reopen/attach-abort.ts): a reopen entry of
  // a node in an iothread that gives it a new `backing`/`file` from the main loop moves that child
  // into the iothread (bdrv_attach_child_common); if anything in the reopen then fails, tran_abort
  // moves it back without the lock (abort-41). Whether the rest succeeds is not the view's to
  // tell: never sent (the view cannot tell which iothread, nor whether the child could move).
  if (step.execute === 'blockdev-reopen' && Array.isArray(a.options) && aio.size > 0) {
    const edges = p.graph?.edges ?? [];
    for (const o of (a.options as Json[]).filter(isObj)) {
      const node = typeof o['node-name'] === 'string' ? o['node-name'] : undefined;
      if (node === undefined || !aio.has(node)) continue;
      for (const link of ['backing', 'file']) {
        const c = o[link];
        if (typeof c !== 'string' || aio.has(c)) continue;
        if (edges.some((x) => x.parent === node && x.name === link && x.child === c)) continue;
        return `stop 41: blockdev-reopen gives '${node}' (in an iothread) the ${link} '${c}' from the main loop (7.2: a failure after the attach aborts in bdrv_attach_child_common_abort)`;
      }
    }
  }
  // fuzz 1952165311 (stop 40, wt-fz20; 7.2, the model refuses it: graph/ops.ts
  // refuseCloseWithAnonBitmap): the same close through blockdev-del. A completed mirror's
  // bdrv_replace_node moved copy-before-write cbw6's links from its source n3 to the target, and
  // the filter's block-copy bitmap stayed on n3 (7.2: block_copy_state_new on the source), so
  // deleting n3, now without parents, closes a node with a dirty bitmap. Any node the view shows
  // with an anonymous bitmap and no parent (10.0 keeps that bitmap on the filter, rule
  // 'block-copy-bitmap-node': the view does not know the version, so both are avoided).
  if (step.execute === 'blockdev-del' && typeof a['node-name'] === 'string') {
    const node = a['node-name'];
    const n = (p.graph?.nodes ?? []).find((x) => x.name === node);
    if (n && (n.bitmaps ?? []).some((b) => b.startsWith('(anonymous)')) && !(p.graph?.edges ?? []).some((e) => e.child === node)) {
      return `fuzz 1952165311: blockdev-del of '${node}', which holds an anonymous (block-copy) bitmap and has no parent (7.2: bdrv_close: Assertion \`QLIST_EMPTY(&bs->dirty_bitmaps)' failed)`;
    }
  }
  // fuzz 1009896524 (7.2 and 10.0): a copying backup or mirror into a quorum one of whose
  // children an external snapshot replaced by an overlay (quorum_open measured its children once:
  // the overlay may be shorter) writes past the overlay's end: bdrv_co_write_req_prepare's
  // `offset + bytes <= bs->total_sectors * BDRV_SECTOR_SIZE || child->perm & BLK_PERM_RESIZE'
  // assertion. sync none copies nothing by itself (abort-33-backup-into-quorum-overlay-sync-none-survives).
  {
    const jobs: JsonObject[] = step.execute === 'transaction' && Array.isArray(a.actions)
      ? (a.actions as Json[]).filter(isObj).filter((x) => (x.type === 'blockdev-backup' || x.type === 'blockdev-mirror') && isObj(x.data)).map((x) => x.data as JsonObject)
      : step.execute === 'blockdev-backup' || step.execute === 'blockdev-mirror' ? [a] : [];
    for (const d of jobs) {
      const t = typeof d.target === 'string' ? d.target : undefined;
      if (t === undefined || d.sync === 'none' || p.driver(t) !== 'quorum') continue;
      const overlay = (p.graph?.edges ?? []).find((e) => e.parent === t && p.appended.has(e.child));
      if (overlay) return `fuzz 1009896524: a copying ${step.execute} into quorum '${t}', whose child '${overlay.child}' is an appended overlay (QEMU aborts: bdrv_co_write_req_prepare past the overlay's end)`;
    }
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
  // QEMU 10.0 hang (wt-fz2; graph/rules.ts 'reopen-queue-drains-per-call'): a node a blockdev-reopen
  // queued twice stays drained, and so is every node above it; blockdev-create's qcow2 writes its
  // header through a BlockBackend on `file` (blk_co_pwrite -> blk_wait_while_drained): the job
  // waits for ever, job-cancel cannot end it and the daemon no longer quits. Never sent.
  if (step.execute === 'blockdev-create' && isObj(a.options) && typeof a.options.file === 'string') {
    const below = p.subtree(a.options.file);
    const d = [...(p.reopenDrained ?? [])].find((n) => below.has(n));
    if (d) return `QEMU 10.0 hang: blockdev-create over '${a.options.file}', above '${d}' which a blockdev-reopen queued twice (left drained: the create job's writes wait for ever)`;
    // fuzz 2659328845 (wt-fz6): QEMU's own reopens queue a node twice too, unseen by the view:
    // a node that is both file and backing of one parent (blockdev-snapshot of a format node's
    // file under it) is queued over both links when a snapshot's commit, a stream or a commit
    // reopens that parent (bdrv_reopen_set_read_only). Any node linked twice from one parent
    // counts as possibly left drained.
    const twice = [...below].find((n) => {
      const from = p.graph.edges.filter((e) => e.child === n).map((e) => e.parent);
      return from.some((x, i) => from.indexOf(x) !== i);
    });
    if (twice) return `QEMU 10.0 hang: blockdev-create over '${a.options.file}', above '${twice}', linked twice from one parent (an internal reopen of that parent may have left it drained: the create job's writes wait for ever)`;
  }
  // QEMU 7.2 crash (iotests tests/stream-unaligned-prefetch, wt-iotd; graph/rules.ts
  // 'stream-prefetch-pad-crashes'): a stream's prefetch through a compress filter, whose request
  // alignment is its qcow2 child's cluster size, is padded over a NULL qiov. Whether a copy is
  // unaligned depends on the data below: any stream of a compress device is never sent.
  if (step.execute === 'block-stream' && typeof a.device === 'string' && p.driver(a.device) === 'compress') {
    return `iotests tests/stream-unaligned-prefetch: block-stream of compress filter '${a.device}' (a copy its cluster does not divide dies in bdrv_pad_request on 7.2)`;
  }
  // fuzz --qemu 10.0 2838488303 (stop 39; 7.2 dies alike; graph/jobs/unchanged-write.ts): a stream's
  // copy-on-read write reaching a blklogwrites filter on the device's filter path is written on as a
  // plain write (blklogwrites keeps no BDRV_REQ_WRITE_UNCHANGED), through a link that holds no write:
  // bdrv_co_write_req_prepare asserts. The view does not know whether anything is copied: any stream
  // of a device whose file links (filters) pass a blklogwrites node is never sent
  if (step.execute === 'block-stream' && typeof a.device === 'string') {
    const edges = p.graph?.edges ?? [];
    let it: string | undefined = a.device;
    for (let i = 0; it !== undefined && i < 100; i++) {
      if (p.driver(it) === 'blklogwrites') return `fuzz 2838488303: block-stream of '${a.device}' through blklogwrites filter '${it}' (its copy-on-read writes reach the filter's file link without write: bdrv_co_write_req_prepare aborts)`;
      if (!FILE_FILTERS.has(p.driver(it) ?? '')) break;
      const cur: string = it;
      it = edges.find((e) => e.parent === cur && e.name === 'file')?.child;
    }
  }
  // QEMU 10.0 abort (graph/rules.ts 'insert-node-context-asserts'): a job's filter inserted over a
  // node in an iothread that nothing pins there moves it to the main loop, and bdrv_insert_node
  // asserts it did not (7.2 carries it out)
  // drive-backup inserts the same copy-before-write filter (do_backup_common -> backup_job_create)
  const inserted: unknown[] = ['blockdev-backup', 'drive-backup', 'block-stream'].includes(step.execute) ? [a.device] : [];
  if (step.execute === 'transaction' && Array.isArray(a.actions)) {
    for (const act of a.actions) if (isObj(act) && (act.type === 'blockdev-backup' || act.type === 'drive-backup') && isObj(act.data)) inserted.push(act.data.device);
  }
  if (inserted.some((n) => typeof n === 'string' && aio.has(n))) {
    const pinned = p.pinnedInIothread();
    const moving = inserted.find((n) => typeof n === 'string' && aio.has(n) && !pinned.has(n));
    if (moving) return `QEMU 10.0 abort: a job's filter over '${moving as string}', in an iothread nothing pins (bdrv_insert_node: Assertion \`bdrv_get_aio_context(bs) == ctx' failed)`;
  }
  // QEMU 7.2 hang (fuzz 4265141723, 3517480893, 2925014013; graph/rules.ts
  // 'resize-leaks-iothread-lock'): block_resize of a node in an iothread that nothing keeps there
  // (a fixed-iothread export in its component) moves it back to the main loop when its
  // BlockBackend goes, failed truncate or not, and bdrv_co_unlock then leaves the iothread's lock
  // held: the next wait in that iothread never ends. The view cannot tell which nodes the move
  // takes along, so any node that may be in an iothread and is not pinned is avoided.
  if (step.execute === 'block_resize' && typeof a['node-name'] === 'string' && aio.has(a['node-name']) && !p.pinnedInIothread().has(a['node-name'])) {
    return `fuzz 4265141723: block_resize of '${a['node-name']}' in an iothread nothing pins (QEMU 7.2 hangs later: bdrv_co_unlock after the node moved back to the main loop keeps the iothread locked)`;
  }
  // fuzz --qemu 10.0 497471072 (a race, not a QEMU bug): a job in an iothread is paused by a
  // drain and resumed by its iothread when that runs it (ProcView.statusRaces), so a verb that
  // job_apply_verb_locked refuses in running and paused, or ready and standby alike (complete
  // while running or paused; finalize and dismiss before pending or concluded) names whichever
  // state the command met. The verbs QEMU accepts in both stay (pause, resume, cancel, set-speed).
  const verbJob = ['job-complete', 'job-finalize', 'job-dismiss'].includes(step.execute) ? a.id
    : ['block-job-finalize', 'block-job-dismiss'].includes(step.execute) ? a.id : step.execute === 'block-job-complete' ? a.device : undefined;
  if (typeof verbJob === 'string' && p.statusRaces(verbJob)) {
    const st = p.jobs.get(verbJob)!.status;
    const complete = step.execute.endsWith('complete');
    if (!complete || st === 'running' || st === 'paused') {
      return `fuzz --qemu 10.0 497471072: ${step.execute} of job '${verbJob}' (${st}) in an iothread: a drain's resume runs in the iothread, so the refused state is running or paused, ready or standby as the race goes`;
    }
  }
  // fuzz 3404316613 (not a QEMU bug, its speed): block_resize answers only when the format's
  // truncate is done, and a shrinking qcow2 discards the freed clusters through bs->file
  // (qcow2_co_truncate -> qcow2_cluster_discard -> qcow2_process_discards): a throttle node there
  // counts each discard's bytes against its group (throttle_co_pdiscard ->
  // throttle_group_co_io_limits_intercept), so at `iops-total: 10, iops-size: 4096` 15 MiB
  // freed is 3,840 units, minutes, past the fuzzer's reply bound. Avoided while any throttle
  // group with limits exists (the view does not track which group a node uses).
  if (step.execute === 'block_resize' && typeof a['node-name'] === 'string' && p.limitedThrottleGroups.size > 0
      && [...p.subtree(a['node-name'])].some((n) => p.driver(n) === 'throttle')) {
    return `fuzz 3404316613: block_resize of '${a['node-name']}' over a throttle node while a throttle group has limits (the truncate's discards wait for the group: minutes, past the reply bound)`;
  }
  // fuzz 1422096404 (7.2 abort; graph/snapshot-drain-abort.ts): blockdev-snapshot of a node onto
  // an overlay in an iothread while a job is alive: bdrv_append polls the drain of the new backing
  // link in the overlay's iothread without its lock (bdrv_parent_drained_begin_single ->
  // qemu_mutex_unlock_impl). The view knows neither which iothread nor which job is above the
  // overlay: any live job and any node that may sit in a different iothread is avoided.
  const snapPairs: [unknown, unknown][] = step.execute === 'blockdev-snapshot' ? [[a.node, a.overlay]] : [];
  if (step.execute === 'transaction' && Array.isArray(a.actions)) {
    for (const act of a.actions) if (isObj(act) && act.type === 'blockdev-snapshot' && isObj(act.data)) snapPairs.push([act.data.node, act.data.overlay]);
  }
  // (only looked at for a snapshot: partial views in specs carry no jobs)
  const liveJob = snapPairs.length > 0 && [...(p.jobs?.values() ?? [])].some((j) => !['concluded', 'null'].includes(j.status));
  const drained = liveJob && snapPairs.find(([n, o]) => typeof o === 'string' && aio.has(o) && typeof n === 'string' && n !== o);
  if (drained) return `fuzz 1422096404: blockdev-snapshot onto '${drained[1] as string}' in an iothread while a job runs (7.2: bdrv_parent_drained_begin_single polls without the iothread lock)`;
  // fuzz 1593594901 (7.2 abort; commands/external-snapshot.ts): a snapshot whose append moves a
  // main-loop node into the overlay's iothread and then fails (a read-only overlay under a writer)
  // moves it back without that iothread's lock. The view knows neither the contexts for sure nor
  // whether the append fails: a node that may be in the main loop onto an overlay that may be in
  // an iothread is avoided (the boundary, old node in the iothread, is recorded)
  const across = snapPairs.find(([n, o]) => typeof o === 'string' && aio.has(o) && typeof n === 'string' && n !== o && !aio.has(n));
  if (across) return `fuzz 1593594901: blockdev-snapshot of '${across[0] as string}' onto '${across[1] as string}' in an iothread (7.2: a failing append moves it back without the iothread lock)`;
  // fuzz 1693346616 (7.2 and 10.0 hang; graph/snapshot-abort-backup-hang.ts): a transaction that
  // fails after a snapshot appended over the source of a copying backup: external_snapshot_abort's
  // bdrv_replace_node drains the overlay and waits for the resumed job for ever. Only a job that
  // copies at a limit does (copyingBackupAbove): one with sync none copies nothing by itself
  // (abort-12-txn-snapshot-abort-over-backup-sync-none-survives), an unlimited one is waited for
  // until it is done copying (grammar.ts follow-ups), a paused one is quiescent
  // (abort-12-txn-snapshot-abort-over-paused-backup-survives). The view does not know whether a
  // later action fails, nor what a sync top job finds allocated: any snapshot of the device of a
  // running, limited backup with sync other than none in a transaction of more than one action is avoided
  if (step.execute === 'transaction' && Array.isArray(a.actions) && a.actions.length > 1) {
    const running = new Set([...(p.jobs?.values() ?? [])]
      .filter((j) => j.kind === 'backup' && j.status === 'running' && j.sync !== 'none' && j.limited !== false).map((j) => j.device));
    const over = (a.actions as Json[]).filter(isObj).map((act) => (isObj(act.data) && typeof act.type === 'string' ? snapshotOf(act.type, act.data) : undefined))
      .find((n) => typeof n === 'string' && running.has(n));
    if (over) return `fuzz 1693346616: a transaction that may fail after a snapshot of '${over as string}', the source of a running backup (QEMU hangs in external_snapshot_abort: bdrv_replace_node_common drains the overlay)`;
  }
  // fuzz --qemu 10.0 3776961068 (QEMU 10.0 abort; graph/jobs/drop-filter.ts, rule
  // 'drop-filter-frees-child-asserts'): a blockdev-snapshot-sync overlay that only a job's filter
  // holds; when the job ends (finalize, cancel, or on its own), bdrv_drop_filter frees it and then
  // ends its drain: `bs->quiesce_counter > 0' fails. The view cannot tell when the job will end:
  // every way to get there is avoided (snapshotSyncUnderJobFilter, which also follows a
  // transaction's own backup actions: abort-21-*).
  const underFilter = snapshotSyncUnderJobFilter(step.execute, a, p);
  if (underFilter) return underFilter;
  // wt-iotc (graph/rules.ts 'nbd-client-close-in-iothread-aborts'): blockdev-del of an NBD client
  // node whose server's export runs in an iothread kills the serving 7.2 daemon a moment later
  // (nbd_blockdev_client_closed asserts qemu_in_main_thread()). The view cannot see the other
  // process's exports and iothreads: any nbd node.
  if (step.execute === 'blockdev-del' && typeof a['node-name'] === 'string' && p.driver(a['node-name']) === 'nbd') {
    return `wt-iotc: blockdev-del of NBD client '${a['node-name']}' (7.2: a server export in an iothread dies in nbd_blockdev_client_closed)`;
  }
  // fuzz 4103191356 (7.2 crash, 10.0 abort; graph/jobs/drop-filter.ts): blockdev-del of the last
  // parent of a job's filter whose `file` (a node opened inline: no monitor reference) has no other
  // parent: when the job ends, bdrv_drop_filter frees that node with the filter's link; 7.2 closes
  // it with the copy bitmap still on it (bdrv_close asserts), 10.0 ends its drain. The
  // boundary, a monitor-owned source, survives (abort-30-backup-source-freed-by-filter-drop-survives).
  // fuzz --against vm --qemu 10.0 4212211322 (both versions die): the same through device_del of
  // the disk whose BlockBackend was the filter's last parent (the job's source a
  // blockdev-snapshot-sync overlay, which only the BlockBackend held); a scsi-cd's leaked
  // BlockBackend would stay, but the view does not tell the kinds apart: every device counts
  const gone = step.execute === 'blockdev-del' && typeof a['node-name'] === 'string' ? [a['node-name']]
    : step.execute === 'device_del' && typeof a.id === 'string' ? [`dev:${a.id}`, `dev:/machine/peripheral/${a.id}/virtio-backend`] : [];
  if (gone.length && p.graph?.edges) {
    const del = gone.find((g) => p.graph.edges.some((x) => x.parent === g)) ?? gone[0]!;
    const isJob = (n: string) => p.graph.parents.some((x) => x.name === n && x.type === 'block-job');
    for (const e of p.graph.edges.filter((x) => x.parent === del)) {
      const f = e.child;
      if (!['copy-before-write', 'copy-on-read'].includes(p.driver(f) ?? '') || p.monitorOwned.has(f)) continue;
      if (p.graph.edges.some((x) => x.child === f && x.parent !== del && !isJob(x.parent))) continue;
      const c = p.child(f, 'file');
      if (!c || p.monitorOwned.has(c) || p.graph.edges.some((x) => x.child === c && x.parent !== f)) continue;
      return `fuzz 4103191356: ${step.execute} of '${del}', the last parent of job filter '${f}' whose file '${c}' nothing else holds (the job's end frees '${c}' in bdrv_drop_filter: 7.2 closes it with the copy bitmap on it, 10.0 ends its drain)`;
    }
  }
  // fuzz 1881299179 (7.2 and 10.0 die): the same through blockdev-reopen, an entry whose `backing`
  // or `file` moves away from a job's filter that has no other parent; the job's end then frees the
  // filter's inline file (boundary: a monitor-owned one, abort-32-reopen-drops-last-filter-parent-survives)
  if (step.execute === 'blockdev-reopen' && Array.isArray(a.options) && p.graph?.edges) {
    const isJob = (n: string) => p.graph.parents.some((x) => x.name === n && x.type === 'block-job');
    for (const o of a.options) {
      if (!isObj(o) || typeof o['node-name'] !== 'string') continue;
      const node = o['node-name'];
      for (const edge of ['backing', 'file']) {
        const f = p.child(node, edge);
        if (!(edge in o) || f === undefined || o[edge] === f) continue;
        if (!['copy-before-write', 'copy-on-read'].includes(p.driver(f) ?? '') || p.monitorOwned.has(f)) continue;
        if (p.graph.edges.some((x) => x.child === f && x.parent !== node && !isJob(x.parent))) continue;
        const c = p.child(f, 'file');
        if (!c || p.monitorOwned.has(c) || p.graph.edges.some((x) => x.child === c && x.parent !== f)) continue;
        return `fuzz 1881299179: blockdev-reopen of '${node}' drops its ${edge} '${f}', the last parent of job filter '${f}' whose file '${c}' nothing else holds (the job's end frees '${c}' in bdrv_drop_filter, as fuzz 4103191356)`;
      }
    }
  }
  // fuzz --qemu 10.0 4197392066 (10.0 abort): a raw node keeps the length it had at open on 10.0
  // (raw-format lost .has_variable_length in 8.0: bdrv_getlength answers total_sectors), so after a
  // block_resize shrank a node below it a job writing to it (a mirror's target, a backup's, an
  // intermediate or active commit's base) passes that node's end, and bdrv_co_write_req_prepare
  // asserts (`offset + bytes <= bs->total_sectors * BDRV_SECTOR_SIZE || child->perm &
  // BLK_PERM_RESIZE'). 7.2 refreshes raw's length (raw_getlength): the mirror fails with "Source and
  // target image have different sizes". The view knows no lengths: a job target with a raw node at
  // or under it over a resized node is avoided; the boundary, the raw node added after the resize,
  // survives on both (abort-31-mirror-into-raw-over-shrunk-node-survives)
  {
    const targets: unknown[] = [];
    if (['blockdev-mirror', 'blockdev-backup'].includes(step.execute)) targets.push(a.target);
    if (step.execute === 'block-commit') targets.push(a['base-node'], a.base);
    if (step.execute === 'transaction' && Array.isArray(a.actions)) {
      for (const act of a.actions) if (isObj(act) && (act.type === 'blockdev-backup' || act.type === 'blockdev-mirror') && isObj(act.data)) targets.push(act.data.target);
    }
    for (const t of targets) {
      if (typeof t !== 'string') continue;
      // ... or over an external snapshot's overlay, which took the place of the node the raw node
      // measured at open (fuzz --qemu 10.0 3430820474: the commit into raw n7 over overlay n18)
      const raw = [...p.subtree(t)].find((n) => p.driver(n) === 'raw' && [...p.subtree(n)].some((x) => x !== n && (p.resized.has(x) || p.appended.has(x))));
      if (raw) return `fuzz --qemu 10.0 4197392066: ${step.execute} writing to '${t}', with raw node '${raw}' over a resized node (10.0's raw keeps its length at open: the writes pass the shrunk node's end and bdrv_co_write_req_prepare asserts)`;
    }
  }
  // fuzz 1681112954 (7.2 hang, docs/fidelity.md "Stop 32's last run on the merged tree"): a job
  // over a qcow2 node whose `file` a reopen moved onto foreign bytes (ProcView.foreignFile). A
  // stream's copy-on-read writes allocate through metadata read from them, the overlap check
  // declares the image corrupt (qcow2_signal_corruption: bs->drv = NULL), the job fails, and
  // bdrv_cor_filter_drop -> bdrv_unfreeze_backing_chain walks past the driverless node
  // (bdrv_filter_or_cow_child: NULL) without ever meeting the bottom: the main loop spins. Commit
  // and mirror freeze the chain from their filter down the same way (commit_start,
  // mirror_start_job -> bdrv_freeze_backing_chain) and read their source through the node, whose
  // garbage L2 entries signal corruption as well. The model follows no image corruption, so no
  // job is started with such a node in its chain or as its target.
  if (['block-stream', 'block-commit', 'blockdev-mirror', 'drive-mirror'].includes(step.execute) && typeof a.device === 'string' && p.foreignFile.size > 0) {
    const chain = [a.device, ...p.chainBelow(a.device), ...(typeof a.target === 'string' ? [a.target, ...p.chainBelow(a.target)] : [])];
    const hit = chain.find((n) => p.foreignFile.has(n));
    if (hit) return `fuzz 1681112954: ${step.execute} over qcow2 '${hit}', whose file a reopen moved off the image it was opened on (a corruption its metadata writes may meet leaves it without a driver, and QEMU 7.2 spins in bdrv_unfreeze_backing_chain)`;
  }
  // fuzz 4264209348 (7.2 and 10.0 hang; graph/stream-reopen-backup-hang.ts): block-stream of a
  // read-only node under a copying backup: stream_start's reopen to read-write ends a drain and
  // bdrv_insert_node's drain right after waits for the resumed job for ever. The view knows
  // neither the job's speed nor what it has left to copy: a stream of a read-only node is avoided
  // while a running backup's device is that node or above it (a paused job, a writable node are sent)
  if (step.execute === 'block-stream' && typeof a.device === 'string' && p.graph.nodes.find((n) => n.name === a.device)?.ro) {
    const running = new Set([...(p.jobs?.values() ?? [])].filter((j) => j.kind === 'backup' && j.status === 'running').map((j) => j.device));
    const above = new Set([a.device]);
    for (let grew = true; grew;) {
      grew = false;
      for (const e of p.graph.edges) if (above.has(e.child) && !above.has(e.parent)) { above.add(e.parent); grew = true; }
    }
    const job = [...above].find((n) => running.has(n));
    if (job) return `fuzz 4264209348: block-stream of read-only '${a.device}' under a running backup of '${job}' (QEMU hangs in stream_start: bdrv_insert_node's drain after the reopen to read-write)`;
  }
  // fuzz --qemu 10.0 2265673556 (QEMU 10.0 hang; graph/export-fail-backup-hang.ts, rule
  // 'export-fail-iothread-backup-hangs'): a block-export-add failing after blk_insert_bs on a node
  // in an iothread under a copying backup: blk_exp_add's blk_unref drains the node for ever. The
  // view knows neither whether nbd_export_create will fail nor the job's speed: any export of a
  // node in an iothread at or below a running backup's device is avoided (7.2 survives it; the
  // survivors: abort-22-*-survives). An export that names an iothread moves the node there
  // first (blk_exp_add: blk_set_aio_context before nbd_export_create), so its failure drains in
  // that iothread too (fuzz --qemu 10.0 1623732509: a duplicate export name after the move)
  if (step.execute === 'block-export-add' && typeof a['node-name'] === 'string' && (p.inIothread().has(a['node-name']) || a.iothread !== undefined)) {
    const node = a['node-name'];
    const job = [...(p.jobs?.values() ?? [])].find((j) => j.kind === 'backup' && j.status === 'running' && typeof j.device === 'string' &&
      (j.device === node || p.subtree(j.device).has(node)));
    if (job) return `fuzz 2265673556: block-export-add of '${node}' in an iothread under running backup of '${job.device as string}' (QEMU 10.0 hangs in blk_exp_add's fail path: blk_unref drains the node)`;
  }
  // stop 37 (wt-combo9; 7.2 and 10.0 abort; graph/ops.ts refuseCloseWithBusyBitmap): an export
  // marks its bitmaps busy but holds no reference to a node below the exported one (found down
  // bdrv_filter_or_cow_bs) or named by node+name; a stream, commit or reopen that drops that node
  // closes it with the bitmap busy and bdrv_release_dirty_bitmap_locked asserts. Avoided at the
  // export: only bitmaps of the exported node itself are sent
  if (step.execute === 'block-export-add' || step.execute === 'nbd-server-add') {
    const node = step.execute === 'block-export-add' ? a['node-name'] : a.device;
    const own = new Set((p.graph.nodes.find((n) => n.name === node)?.bitmaps ?? []).map((b) => b.split(' ')[0]));
    const refs: Json[] = step.execute === 'block-export-add' ? (Array.isArray(a.bitmaps) ? a.bitmaps : []) : (typeof a.bitmap === 'string' ? [a.bitmap] : []);
    // a reference QEMU refuses (no such node, no such bitmap anywhere) exports nothing: sent
    const named = new Set(p.graph.nodes.map((n) => n.name));
    const anywhere = new Set(p.graph.nodes.flatMap((n) => (n.bitmaps ?? []).map((b) => b.split(' ')[0])));
    const away = refs.find((r) => (typeof r === 'string' ? !own.has(r) && anywhere.has(r) : isObj(r) && r.node !== node && named.has(String(r.node))));
    if (away !== undefined) return `stop 37: ${step.execute} of '${String(node)}' with a bitmap of another node (an export holds it busy without holding its node: closing that node aborts in bdrv_release_dirty_bitmap_locked)`;
  }
  // fuzz --against vm 1471005996 (7.2 hangs; commands/vm/device-add.ts refuseGeometryUnderHeldDrain): a
  // mirror or active commit that completed and awaits job-finalize holds its source (and every node
  // above it) drained; a disk's realize reads sector 0 there (blkconf_geometry) and waits for ever.
  // CD-ROMs guess no geometry (survivors: vm/abort-23-vm-device-add-held-drain-survives)
  // (fuzz --against vm --qemu 10.0 785820337: scsi-generic's and scsi-block's realize waits the same
  // way in blk_ioctl(SG_GET_VERSION_NUM): blk_co_do_ioctl → blk_wait_while_drained)
  // (fuzz --against vm --qemu 10.0 1713296165: usb-storage's legacy scsi-disk reads the same way;
  // a drive's name stands for its BlockBackend's root node: hmp-equivalent.ts rootOf)
  if (step.execute === 'device_add' && typeof a.drive === 'string' && ['virtio-blk-pci', 'scsi-hd', 'ide-hd', 'scsi-generic', 'scsi-block', 'usb-storage'].includes(a.driver as string)) {
    const drive = rootOf(p.graph, a.drive);
    const job = [...(p.jobs?.values() ?? [])].find((j) => (j.kind === 'mirror' || j.kind === 'commit-active') &&
      (j.status === 'waiting' || j.status === 'pending') && (j.device === drive || p.subtree(drive).has(j.device)));
    if (job) return `fuzz 1471005996: device_add of a disk on '${drive}', at or above the source of completed job '${job.id}' awaiting finalize (QEMU 7.2 hangs in realize: blkconf_geometry reads through the held drain)`;
    // fuzz --against vm --qemu 10.0 314375822: the same read above a node a blockdev-reopen
    // queued twice (10.0 leaves it drained: rule 'reopen-queue-drains-per-call')
    const below = p.subtree(drive);
    const leaked = [...(p.reopenDrained ?? [])].find((n) => below.has(n));
    if (leaked) return `fuzz 314375822: device_add of a disk on '${drive}', above '${leaked}' which a blockdev-reopen queued twice (QEMU 10.0 hangs in realize: blkconf_geometry reads through the leaked drain)`;
  }
  // fuzz 1361365498 (7.2 hang; graph/moved-backup-clean-hang.ts, rule 'moved-backup-clean-hangs'):
  // cancel or finalize of a pending backup that x-blockdev-set-iothread carried into an iothread
  // after it started, while another job carried there with it runs: bdrv_cbw_drop's drain polls
  // with the iothread's lock held and never enters that job. The view does not know which jobs
  // the drain reaches: any other running job carried into an iothread counts (a user-paused one,
  // or jobs created in the iothread, are sent: abort-24-*-survives)
  if (['job-cancel', 'job-finalize', 'block-job-cancel', 'block-job-finalize'].includes(step.execute)) {
    const id = step.execute === 'block-job-cancel' ? a.device : a.id;
    const jobs = [...(p.jobs?.values() ?? [])];
    const j = jobs.find((x) => x.id === id);
    if (j && j.kind === 'backup' && j.movedIn && (j.status === 'pending' || j.status === 'waiting') && aio.has(j.device)) {
      const other = jobs.find((x) => x.id !== j.id && x.movedIn && (x.status === 'running' || x.status === 'ready') && aio.has(x.device));
      if (other) return `fuzz 1361365498: ${step.execute} of pending backup '${j.id}' carried into an iothread with running job '${other.id}' (QEMU 7.2 hangs in bdrv_cbw_drop: the drain polls with the iothread's lock held)`;
    }
  }
  // fuzz --qemu 10.0 3705470636 (10.0 abort; graph/inactive.ts): blockdev-set-active {active:
  // false} over a node that is two children of one parent (file and backing after a reopen):
  // bdrv_inactivate_recurse inactivates it through the first link and asserts top_level at the second
  if (step.execute === 'blockdev-set-active' && a.active === false) {
    const g = p.graph;
    const named = new Set(g.nodes.map((n) => n.name));
    const scope = typeof a['node-name'] === 'string' ? p.subtree(a['node-name']) : undefined;
    const twice = g.edges.find((e, i) => named.has(e.parent) && (!scope || scope.has(e.parent))
      && g.edges.some((f, k) => k !== i && f.parent === e.parent && f.child === e.child));
    if (twice) return `fuzz 3705470636: blockdev-set-active inactivating '${twice.parent}', whose child '${twice.child}' it holds twice (QEMU 10.0: bdrv_inactivate_recurse: Assertion \`top_level' failed)`;
    // stop 37 (wt-combo9, 10.0 abort; graph/bitmaps.ts storePersistentBitmaps): qcow2_inactivate
    // stores and releases the persistent bitmaps, and one an export holds busy fails
    // bdrv_release_dirty_bitmap_locked's assertion. The view does not follow which nodes the walk
    // reaches: any persistent, busy bitmap in scope is avoided
    const busyPersistent = g.nodes.find((n) => (!scope || scope.has(n.name)) && n.driver === 'qcow2'
      && (n.bitmaps ?? []).some((b) => / persistent\b/.test(b) && / busy\b/.test(b) && !/ inconsistent\b/.test(b)));
    if (busyPersistent) return `stop 37: blockdev-set-active inactivating qcow2 node '${busyPersistent.name}' with a busy persistent bitmap (QEMU 10.0: bdrv_release_dirty_bitmap_locked: Assertion \`!bdrv_dirty_bitmap_busy(bitmap)' failed)`;
  }
  // fuzz --qemu 10.0 250573919 (10.0 hang, 7.2 carries it out): blockdev-del of a node above the
  // copy-before-write filter of a running (rate-limited) backup that x-blockdev-set-iothread
  // carried into an iothread after it started: bdrv_close's bdrv_drained_begin waits for the job
  // to pause (child_job_drained_poll) and it never does (the mechanism not traced further). A
  // user-paused job survives (abort-34-blockdev-del-over-moved-running-backup-paused-survives).
  if (step.execute === 'blockdev-del' && typeof a['node-name'] === 'string') {
    const below = p.subtree(a['node-name']);
    const j = [...(p.jobs?.values() ?? [])].find((x) => x.kind === 'backup' && x.movedIn && x.status === 'running' && below.has(x.device));
    if (j) return `fuzz 250573919: blockdev-del of '${a['node-name']}' above running backup '${j.id}' carried into an iothread (QEMU 10.0 hangs in bdrv_close's drain)`;
  }
  // fuzz 2030445139 (7.2 and 10.0 hang; commands/transaction.ts): a grouped transaction that
  // fails after creating two jobs: the first .abort's job_finish_sync_locked waits for the other
  // job, which never started. Whether an action fails is not known here: two job actions under
  // 'grouped' are avoided.
  if (step.execute === 'transaction' && Array.isArray(a.actions) && isObj(a.properties) && a.properties['completion-mode'] === 'grouped') {
    const jobs = (a.actions as Json[]).filter((act) => isObj(act) && (act.type === 'drive-backup' || act.type === 'blockdev-backup')).length;
    // (stop 34) except two blockdev-backups between four distinct null nodes of the view that
    // nothing uses, under new job ids: neither prepare can fail (families/job-states.ts 'waiting')
    const unused = (n: unknown) => typeof n === 'string' && ['null-co', 'null-aio'].includes(p.driver(n) ?? '') && !aio.has(n)
      && !p.graph.edges.some((e) => e.child === n || e.parent === n);
    const datas = (a.actions as Json[]).map((act) => (isObj(act) && act.type === 'blockdev-backup' && isObj(act.data) ? act.data : undefined));
    const nodes = datas.flatMap((d) => (d ? [d.device, d.target] : []));
    const cannotFail = datas.length === 2 && datas.every((d) => d && !p.jobs.has(String(d['job-id'])) && d.bitmap === undefined && d.speed === undefined)
      && datas[0]!['job-id'] !== datas[1]!['job-id'] && new Set(nodes).size === 4 && nodes.every(unused);
    if (jobs >= 2 && !cannotFail) return `fuzz 2030445139: a grouped transaction with ${jobs} backup actions (QEMU hangs in job_finish_sync_locked when it fails after creating two jobs)`;
  }
  const roWrite = snapshotDeleteWithoutWritePerm(step.execute, a, p);
  if (roWrite) return roWrite;
  const grow = backupOfGrowingFile(step.execute, a, p);
  if (grow) return grow;
  const shorter = mirrorOverShorterChild(step.execute, a, p);
  if (shorter) return shorter;
  const fuzz9 = newFuzzAborts(step.execute, a, p);
  if (fuzz9) return fuzz9;
  const fuzz10 = abortPathAborts(step.execute, a, p);
  if (fuzz10) return fuzz10;
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
    const closing = closesInIothread(list.filter(isObj), p);
    if (closing) return closing;
    const diamond = attachesDiamond(list.filter(isObj), p);
    if (diamond) return diamond;
    const freed = closesQueued(list.filter(isObj), p);
    if (freed) return `crash 6: the reopen closes '${freed}' while it is queued itself (use after free)`;
  }
  return undefined;
}

/**
 * fuzz 241757295 (7.2 only): a blockdev-reopen that attaches (as file or backing) a node whose
 * subtree reaches some node over two links (a copy-before-write with file and target both n0, or
 * target a raw over its file) aborts in bdrv_parent_drained_end_single_no_poll (Assertion
 * `c->parent_quiesce_counter > 0'): the listed node is subtree-drained (qmp_blockdev_reopen) and
 * the attach/detach applies that drain per link (bdrv_apply_subtree_drain /
 * bdrv_unapply_subtree_drain), miscounting the node reached twice. Recorded surviving: the same
 * attach of a node without such a diamond (abort-11-reopen-attach-no-diamond-survives). The model
 * refuses it (graph/reopen/diamond.ts). Nested child options are followed to the child they reopen.
 */
function attachesDiamond(list: JsonObject[], p: ProcView): string | undefined {
  const visit = (node: string, o: JsonObject): string | undefined => {
    for (const edge of ['file', 'backing']) {
      const v = o[edge];
      const cur = p.child(node, edge);
      // fuzz 1224044685: the detach of the old child ends the drain link by link too
      // (graph/reopen/diamond.ts refuseDiamondDetach): a drive-backup's cbw reaches its source twice
      if ((typeof v === 'string' || v === null) && cur && v !== cur) {
        const twice = reachedTwice(cur, p);
        if (twice) return `fuzz 1224044685: reopen detaches '${cur}' (${edge} of '${node}'), reaching '${twice}' over two links (7.2: bdrv_parent_drained_end_single_no_poll assertion)`;
      }
      if (typeof v === 'string' && v !== cur && p.driver(v) !== undefined) {
        const twice = reachedTwice(v, p);
        if (twice) return `fuzz 241757295: reopen attaches '${v}' as ${edge} of '${node}', reaching '${twice}' over two links (7.2: bdrv_parent_drained_end_single_no_poll assertion)`;
      }
      if (isObj(v) && cur) { const r = visit(cur, v); if (r) return r; }
    }
    return undefined;
  };
  for (const o of list) if (typeof o['node-name'] === 'string') { const r = visit(o['node-name'], o); if (r) return r; }
  return undefined;
}

/**
 * fuzz 1664638692 (7.2, a race): a reopen entry that drops its `backing` (null) or replaces a
 * `file`/`backing` child in an iothread which then has no reference left: tran_commit's
 * bdrv_unref closes it without the iothread's AioContext lock, and 7.2 aborts in some runs only
 * (abort-8-reopen-drop-inline-file-in-iothread died in 1 of 3; the case's 7-step form died in 1
 * of 2). The model refuses it always (graph/aio.ts refuseCloseInIothread); a race must not be
 * counted, so neither side sees it. The same drop of a child something else holds (the monitor,
 * another parent) survives every time (aio-reopen-iothread-neighbours, step 21) and is sent.
 */
function closesInIothread(list: JsonObject[], p: ProcView): string | undefined {
  const aio = p.inIothread();
  // an inline object reopens the child it names; only a reference or null replaces it
  const links = replacedLinks(list, p, false);
  const dropped = new Set(links.map(([node, edge, cur]) => `${node}|${edge}|${cur}`));
  const drops = links.filter(([node, , cur]) => aio.has(node) || aio.has(cur));
  for (const [node, edge, cur] of drops) {
    if (p.monitorOwned.has(cur)) continue;
    const held = p.graph.edges.some((e) => e.child === cur && !dropped.has(`${e.parent}|${e.name}|${cur}`));
    const kept = list.some((o) => ['file', 'backing'].some((k) => o[k] === cur));
    if (!held && !kept) return `fuzz 1664638692: reopen drops ${edge} '${cur}' of '${node}', closed in an iothread without its lock (7.2 aborts in some runs)`;
  }
  return undefined;
}

/**
 * The links a blockdev-reopen list replaces, as [parent, edge, old child]: a `file`/`backing`
 * member naming another node or null, and with `inline` also an inline object (which reopens the
 * child it names, but QEMU's queue still treats the link as changed for freeing).
 */
function replacedLinks(list: JsonObject[], p: ProcView, inline: boolean): [string, string, string][] {
  const out: [string, string, string][] = [];
  for (const o of list) {
    const node = o['node-name'];
    if (typeof node !== 'string') continue;
    for (const edge of ['file', 'backing']) {
      if (!(edge in o)) continue;
      const cur = p.child(node, edge);
      const v = o[edge];
      if (cur === undefined || v === cur) continue;
      if (!inline && !(v === null || typeof v === 'string')) continue;
      out.push([node, edge, cur]);
    }
  }
  return out;
}

/** A node of `root`'s subtree that two links inside that subtree point to. */
function reachedTwice(root: string, p: ProcView): string | undefined {
  const seen = new Set<string>([root]);
  const todo = [root];
  const links = new Map<string, number>();
  while (todo.length) {
    const n = todo.pop()!;
    for (const e of p.graph.edges) {
      if (e.parent !== n) continue;
      links.set(e.child, (links.get(e.child) ?? 0) + 1);
      if (!seen.has(e.child)) { seen.add(e.child); todo.push(e.child); }
    }
  }
  for (const [n, k] of links) if (k > 1) return n;
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
  const links = replacedLinks(list, p, true);
  const dropped = new Set(links.map(([node, edge, cur]) => `${node}|${edge}|${cur}`));
  const old = links.map(([, , cur]) => cur);
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

/** Drivers of the filters jobs insert and drop again (bdrv_cor_filter_drop, mirror/commit exit). */
const JOB_FILTERS = new Set(['copy-on-read', 'commit_top', 'mirror_top']);
/** Format drivers whose open reads the image header through `file`. */
const HEADER_READERS = new Set(['qcow2', 'qed', 'vmdk', 'vdi', 'vhdx', 'vpc', 'luks', 'parallels', 'cloop', 'dmg', 'bochs']);

/**
 * QEMU 10.0 abort (graph/jobs/drop-filter.ts, rule 'drop-filter-frees-child-asserts'): a
 * blockdev-snapshot-sync overlay (no monitor reference: only its parents hold it) that ends up
 * the `file` of a job's filter, with nothing else holding it, is freed by bdrv_drop_filter when
 * the job ends, and 10.0 ends the drain of the freed node. Found three ways, all probed live
 * (docs/fidelity.md, abort-19 and abort-21):
 * - blockdev-snapshot-sync (alone or in a transaction) of a node that is already the `file` of a
 *   job's copy-before-write or copy-on-read filter (bdrv_append moves the filter's link to the overlay);
 * - a transaction whose blockdev-backup / drive-backup action of `device` D comes before a
 *   blockdev-snapshot-sync of D (qmp_transaction runs each action's prepare in order, 7.2's
 *   .prepare and 10.0's transaction_action: backup_job_create inserts the filter over D,
 *   external_snapshot_action appends the overlay under it; 10.0 dies at the job's end,
 *   7.2 carries it out: fuzz-found/7.2-only-abort-21-txn-backup-then-snapshot-sync);
 * - a transaction whose backup action's `device` is the overlay an earlier blockdev-snapshot-sync
 *   action made: the filter takes the overlay's parents, and only the transaction's reference held
 *   it besides (external_snapshot_clean drops it; a root node's overlay has no parent; 7.2 dies
 *   too, in bdrv_close with the block-copy bitmap on it: graph/ops.ts refuseCloseWithAnonBitmap).
 * The reverse order (the snapshot first, the backup of the old node), a blockdev-add'ed overlay
 * (blockdev-snapshot), such an overlay appended over the snapshot-sync one later in the transaction
 * (it takes the filter's link, the other is held by its backing) and a transaction with an abort
 * action (it undoes every action) survive (abort-21-*-survives, 7.2 and 10.0). A transaction is
 * walked as if it succeeds (a later action that fails is not foreseen: avoided too).
 */
function snapshotSyncUnderJobFilter(execute: string, a: JsonObject, p: ProcView): string | undefined {
  // (partial views in specs carry no graph)
  const jobFiltered = (n: string): boolean => (p.graph?.edges ?? []).some((e) => e.child === n && e.name === 'file' &&
    ['copy-before-write', 'copy-on-read'].includes(p.driver(e.parent) ?? '') &&
    // a filter blockdev-add made is no job's: blockdev-del unrefs it, no bdrv_drop_filter (abort-20-backup-end-after-snapshot-survives)
    !p.monitorOwned.has(e.parent));
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const acts: [string, JsonObject][] = execute === 'transaction' && Array.isArray(a.actions)
    ? (a.actions as Json[]).filter(isObj).filter((x) => typeof x.type === 'string' && isObj(x.data)).map((x) => [x.type as string, x.data as JsonObject])
    : [[execute, a]];
  // (a transaction with an abort action undoes its snapshots: abort-12-txn-snapshot-abort-over-paused-backup-survives)
  if (acts.some(([t]) => t === 'abort')) return undefined;
  // the `file` children of job filters as the actions go: 'view' for a filter the view shows,
  // 'txn' for one this transaction's backup inserted (nodes moved away from a view filter are dropped)
  const filtered = new Map<string, 'view' | 'txn'>();
  const movedAway = new Set<string>();
  const under = (n: string): 'view' | 'txn' | undefined => filtered.get(n) ?? (jobFiltered(n) && !movedAway.has(n) ? 'view' : undefined);
  const fresh = new Set<string>(); // overlays this transaction's blockdev-snapshot-sync actions made
  const alone = new Map<string, string>(); // fresh overlays only a job filter's link holds, and why
  const moveUp = (n: string, o: string | undefined, by: 'view' | 'txn'): void => {
    // bdrv_append: the overlay takes the node's parents, the filter's link included; the node is
    // held by the overlay's backing link from now on
    filtered.delete(n);
    movedAway.add(n);
    alone.delete(n);
    if (o !== undefined) filtered.set(o, by);
  };
  for (const [t, d] of acts) {
    if (t === 'blockdev-backup' || t === 'drive-backup') {
      const dev = str(d.device);
      if (dev === undefined) continue;
      // bdrv_insert_node: the filter takes the overlay's parents (those the old node had; none
      // for a root node, and a monitor-owned parent can still go before the job ends)
      if (fresh.has(dev)) alone.set(dev, `QEMU 10.0 abort: a backup in a transaction of '${dev}', the overlay its blockdev-snapshot-sync made (the job's filter then holds the overlay alone; its end frees it in bdrv_drop_filter: bdrv_do_drained_end: Assertion \`bs->quiesce_counter > 0' failed; 7.2: bdrv_close with the block-copy bitmap)`);
      filtered.set(dev, 'txn');
    }
    else if (t === 'blockdev-snapshot-sync') {
      const n = str(d['node-name'] ?? d.device);
      if (n === undefined) continue;
      const o = str(d['snapshot-node-name']);
      const by = under(n);
      if (by !== undefined) {
        moveUp(n, o, by);
        if (o !== undefined) {
          alone.set(o, by === 'view'
            ? `QEMU 10.0 abort: blockdev-snapshot-sync of '${n}' under a job's filter (the job's end frees the overlay in bdrv_drop_filter: bdrv_do_drained_end: Assertion \`bs->quiesce_counter > 0' failed)`
            : `QEMU 10.0 abort: blockdev-snapshot-sync of '${n}' after a backup of it in the same transaction (the overlay goes under the job's filter; the job's end frees it in bdrv_drop_filter: bdrv_do_drained_end: Assertion \`bs->quiesce_counter > 0' failed)`);
        }
      }
      if (o !== undefined) fresh.add(o);
    }
    else if (t === 'blockdev-snapshot') {
      // a blockdev-add'ed overlay (the monitor holds it, and blockdev-del refuses it while the filter
      // uses it) takes the filter's link: what it moved up from is held by its backing link
      const n = str(d.node), o = str(d.overlay);
      const by = n === undefined ? undefined : under(n);
      if (n !== undefined && by !== undefined) moveUp(n, o, by);
    }
  }
  const why = [...alone.values()][0];
  if (why !== undefined) return why;
  return undefined;
}

/**
 * The five QEMU 7.2 aborts of the 50,015-command run (issue 12; docs/fidelity.md "New aborts
 * from the fuzzer"; the model refuses each, graph/qemu-abort.ts). The view cannot see every
 * condition (bitmap owners, a stream's bottom, the reopen queue), so these avoid a little more
 * than QEMU aborts on.
 */
function newFuzzAborts(execute: string, a: JsonObject, p: ProcView): string | undefined {
  // 3412715501: bdrv_close asserts no bitmap is left; a cbw keeps its block-copy bitmap on its
  // source, and a job's filter closes when the job ends (job-finalize, cancel, auto-finalize)
  if (execute === 'blockdev-add' && a.driver === 'copy-before-write') {
    for (const k of ['file', 'target']) {
      const r = a[k];
      if (typeof r === 'string' && JOB_FILTERS.has(p.driver(r) ?? '')) return `fuzz 3412715501: copy-before-write over job filter '${r}' (bdrv_close asserts when the job drops it)`;
    }
  }
  // 2879275817: block_dirty_bitmap_enable_abort after a failed lookup disables a NULL bitmap
  if (execute === 'transaction' && Array.isArray(a.actions)) {
    const props = isObj(a.properties) ? a.properties : {};
    const grouped = props['completion-mode'] !== undefined && props['completion-mode'] !== 'individual';
    for (const act of a.actions) {
      if (!isObj(act) || act.type !== 'block-dirty-bitmap-enable') continue;
      const d = isObj(act.data) ? act.data : {};
      const node = p.graph.nodes.find((n) => n.name === d.node);
      const has = node?.bitmaps?.some((b) => b.split(' ')[0] === d.name && d.name !== '(anonymous)');
      if (grouped || !has) return 'fuzz 2879275817: a block-dirty-bitmap-enable action whose lookup fails (NULL in its abort)';
    }
  }
  // stop 42: block-dirty-bitmap-merge of an empty list frees a NULL backup (the command:
  // block_dirty_bitmap_merge; a transaction that commits it: block_dirty_bitmap_free_backup ->
  // hbitmap_free(NULL)); avoided whether or not the transaction commits
  if (execute === 'block-dirty-bitmap-merge' && Array.isArray(a.bitmaps) && a.bitmaps.length === 0) {
    return 'stop 42: block-dirty-bitmap-merge of an empty list (hbitmap_free(NULL))';
  }
  if (execute === 'transaction' && Array.isArray(a.actions)) {
    for (const act of a.actions) {
      if (isObj(act) && act.type === 'block-dirty-bitmap-merge' && isObj(act.data) && Array.isArray(act.data.bitmaps) && act.data.bitmaps.length === 0) {
        return 'stop 42: a transaction merging an empty bitmap list (hbitmap_free(NULL) in its commit)';
      }
    }
  }
  // 1321449412: an entry detaches a child that an earlier listed node queued (it loses its drain)
  if (execute === 'blockdev-reopen' && Array.isArray(a.options)) {
    const list = a.options.filter(isObj);
    const listed = new Set(list.map((o) => o['node-name']));
    const reaches = (from: string, to: string): boolean => {
      const seen = new Set<string>();
      const todo = [from];
      while (todo.length) {
        const n = todo.pop()!;
        if (n === to) return true;
        if (seen.has(n)) continue;
        seen.add(n);
        for (const e of p.graph.edges) if (e.parent === n) todo.push(e.child);
      }
      return false;
    };
    for (const [j, o] of list.entries()) {
      const node = o['node-name'];
      if (typeof node !== 'string') continue;
      for (const edge of ['file', 'backing']) {
        const cur = p.child(node, edge);
        if (!(edge in o) || cur === undefined || o[edge] === cur || listed.has(cur) || p.monitorOwned.has(cur)) continue;
        const earlier = list.slice(0, j).map((x) => x['node-name']).filter((n): n is string => typeof n === 'string');
        if (earlier.some((e) => e !== node && reaches(e, node))) return `fuzz 1321449412: '${node}' drops its ${edge} '${cur}', queued under an earlier entry (undrained)`;
      }
    }
  }
  // 754698230: a format's header read through a copy-on-read filter (a stream's, bottom not below),
  // also through a raw node's file (raw_co_preadv: a slice opened before the stream put its filter
  // under it; fuzz --qemu 10.0 2060426732, 7.2 dies too)
  if (execute === 'blockdev-add' && HEADER_READERS.has(String(a.driver))) {
    for (const r of references(a)) {
      const below: string[] = [];
      for (let cur: string | undefined = r, i = 0; cur !== undefined && i < 16 && !below.includes(cur); i++) {
        below.push(cur, ...p.chainBelow(cur));
        const last: string = below[below.length - 1]!;
        cur = p.driver(last) === 'raw' ? p.child(last, 'file') : undefined;
      }
      if (below.some((n) => p.driver(n) === 'copy-on-read')) return `fuzz 754698230: ${String(a.driver)} header read through a copy-on-read filter under '${r}'`;
    }
  }
  // 4016260769: a qcow2 created with a backing file whose chain comes back to the file it formats
  // (its own name, or a file above it in the fuzz images' headers): any later open of that chain,
  // in either process, recurses without end in QEMU (graph/open.ts headerChain refuses the open)
  if (execute === 'blockdev-create' && isObj(a.options) && a.options.driver === 'qcow2' && typeof a.options['backing-file'] === 'string') {
    const f = typeof a.options.file === 'string' ? p.imageOf(a.options.file) : undefined;
    const chain: string[] = [];
    for (let b: string | undefined = a.options['backing-file']; b !== undefined && !chain.includes(b); b = FUZZ_HEADER_BACKING[b]) chain.push(b);
    if (f !== undefined && chain.includes(f)) return `fuzz 4016260769: blockdev-create of '${f}' with backing file '${a.options['backing-file']}', whose chain comes back to it (QEMU's next open of it never ends)`;
  }
  // 2167532356: qcow2_co_create's BlockBackend release / image open move the file node out of its iothread
  if (execute === 'blockdev-create' && isObj(a.options) && a.options.driver !== 'file') {
    const f = a.options.file;
    if (typeof f === 'string' && p.inIothread().has(f)) return `fuzz 2167532356: blockdev-create over '${f}' in an iothread`;
  }
  return undefined;
}

/**
 * Aborts on error paths (issue 12, wt-abort; docs/fidelity.md "Aborts on error paths"). The model
 * refuses exactly the aborting form; the view cannot tell whether a later action or option check
 * fails, so the generator avoids the whole setup.
 */
function abortPathAborts(execute: string, a: JsonObject, p: ProcView): string | undefined {
  // 3103340992 (7.2 and 10.0): a qcow2 entry that changes `file` and then fails the unchanged-options
  // check leaves s->data_file on the freed staged child (qcow2_reopen_abort before tran_abort): its
  // close crashes. An entry that changes file and gives an option the node was not opened with
  // (or force-share, which always comes back as a string) may fail there. So may an inline
  // (object) `backing` (2067847009): qmp_blockdev_reopen flattens it to backing.* keys that
  // bdrv_reopen_queue_child hands to the backing child only when that child inherits from the
  // node; otherwise they stay and fail as 'backing.driver'.
  if (execute === 'blockdev-reopen' && Array.isArray(a.options)) {
    for (const o of a.options) {
      if (!isObj(o) || typeof o['node-name'] !== 'string' || p.driver(o['node-name']) !== 'qcow2') continue;
      const node = o['node-name'];
      const cur = p.child(node, 'file');
      if (typeof o.file !== 'string' || o.file === cur || p.child(node, 'data-file')) continue;
      const opened = p.options.get(node) ?? {};
      const inlineBacking = isObj(o.backing);
      const risky = inlineBacking || Object.entries(o).some(([k, v]) => !['node-name', 'driver', 'file', 'backing', 'read-only', 'auto-read-only', 'discard', 'detect-zeroes', 'cache'].includes(k)
        && (k === 'force-share' || JSON.stringify(v) !== JSON.stringify(opened[k])));
      if (risky) return `fuzz 3103340992: qcow2 '${node}' changes file and may fail the option check (qcow2_reopen_abort leaves data_file on the freed child)`;
    }
  }
  // 1939925021, 3299987652: a transaction whose blockdev-snapshot is followed by another action
  // that may fail: external_snapshot_abort moves the overlay's parents back to the old node with
  // bdrv_replace_node(&error_abort); a permission error there kills the daemon. Only an overlay
  // that had parents of its own can conflict (the ones the append gave it were the old node's).
  if (execute === 'transaction' && Array.isArray(a.actions)) {
    const acts = a.actions.filter(isObj);
    for (const [i, act] of acts.entries()) {
      if (act.type !== 'blockdev-snapshot' || !isObj(act.data) || i === acts.length - 1) continue;
      const ov = act.data.overlay;
      if (typeof ov !== 'string') continue;
      // every parent (node, BlockBackend, job) is an edge of the reported graph
      if (p.graph.edges.some((e) => e.child === ov)) {
        return `fuzz 1939925021: blockdev-snapshot of overlay '${ov}' (it has users) before a later action (external_snapshot_abort's bdrv_replace_node may fail under &error_abort)`;
      }
    }
  }
  return undefined;
}

/**
 * fuzz 1430764569 (7.2): a backup whose source is the protocol node under a qcow2 node sizes its
 * copy-before-write filter's copy bitmap (block_copy_state_new) to the file's length; a write
 * through the qcow2 node that grows the file (a stream allocating clusters) passes the filter
 * beyond it: hbitmap_set: Assertion `last < hb->size' failed (7.2 and 10.0). The model refuses the
 * job whose copies would grow the file (graph/jobs/cbw-growth.ts), but not writes it does not
 * model (an NBD export's), so the generator never starts such a backup (docs/fidelity.md).
 */
function backupOfGrowingFile(execute: string, a: JsonObject, p: ProcView): string | undefined {
  const devices: unknown[] = execute === 'blockdev-backup' || execute === 'drive-backup' ? [a.device] : [];
  if (execute === 'transaction' && Array.isArray(a.actions)) {
    for (const act of a.actions) if (isObj(act) && (act.type === 'blockdev-backup' || act.type === 'drive-backup') && isObj(act.data)) devices.push(act.data.device);
  }
  for (const d of devices) {
    // a file node, or a filter over the qcow2 node's file (fuzz 2744565156: copy-on-read; the
    // writes that grow the file pass the filter the backup puts above it all the same, an
    // internal snapshot's metadata too)
    if (typeof d !== 'string') continue;
    // fuzz 3411725876 (wt-fz11): a format node that is itself a qcow2 node's file (a blockdev-snapshot
    // of that qcow2 node's file node made it so): the parent's cluster allocations grow it the same
    // way (a backup into the parent wrote 16 MiB of clusters through the filter: hbitmap_set
    // asserted on 7.2). Reached up through `file` links (and filters' `file`/`image`) only: a
    // backup of an overlay's backing stays allowed
    if (['qcow2', 'raw'].includes(p.driver(d) ?? '')) {
      let level = [d];
      for (let i = 0; i < 8 && level.length; i++) {
        const up = p.graph.edges.filter((e) => level.includes(e.child) && (e.name === 'file' || e.name === 'image'));
        if (up.some((e) => p.driver(e.parent) === 'qcow2')) return `fuzz 3411725876: backup of format node '${d}', the file of a qcow2 node (the parent's allocations grow it past the copy bitmap's end: hbitmap_set asserts)`;
        level = up.filter((e) => ['copy-on-read', 'throttle', 'compress', 'preallocate', 'blkdebug', 'copy-before-write', 'raw'].includes(p.driver(e.parent) ?? '')).map((e) => e.parent);
      }
      continue;
    }
    if (!['file', 'copy-on-read', 'throttle', 'compress', 'preallocate', 'blkdebug'].includes(p.driver(d) ?? '')) continue;
    // a qcow2 node above it, directly or through filters
    const above = new Set<string>([d]);
    for (let i = 0; i < 8; i++) for (const e of p.graph.edges) if (above.has(e.child)) above.add(e.parent);
    if ([...above].some((n) => p.driver(n) === 'qcow2')) return `fuzz 1430764569: backup of '${d}', the file of a qcow2 node (a write that grows the file passes the copy bitmap's end: hbitmap_set asserts)`;
  }
  return undefined;
}

/** Filters whose length is the one they had at open (no .has_variable_length in 7.2), and the link to their filtered child. */
const FIXED_LENGTH_FILTERS: Record<string, string> = { blkdebug: 'image', throttle: 'file', 'copy-before-write': 'file', blkverify: 'raw' };

/**
 * fuzz 2207863690 (7.2): a mirror or active commit whose source is a filter that keeps the length
 * it had at open (blkdebug, throttle, …) over a child that is now shorter (a blockdev-snapshot
 * appended a smaller overlay over the child it was opened with): mirror_dirty_init's block status
 * passes through the filter to the child beyond its end, gets pnum 0 and asserts `count'
 * (graph/jobs/mirror-dirty.ts refuseShortFirstLayer). The view knows no lengths: any such filter
 * in the source's filter chain whose child is not the one it was opened over is avoided, for every
 * mirror but sync none (which skips mirror_dirty_init).
 */
function mirrorOverShorterChild(execute: string, a: JsonObject, p: ProcView): string | undefined {
  const mirrors = execute === 'block-commit' || ((execute === 'blockdev-mirror' || execute === 'drive-mirror') && a.sync !== 'none');
  if (!mirrors || typeof a.device !== 'string') return undefined;
  for (let cur: string | undefined = a.device, i = 0; cur && i < 16; i++) {
    const d = p.driver(cur);
    const link = d !== undefined ? FIXED_LENGTH_FILTERS[d] : undefined;
    if (link === undefined) {
      // filters whose length follows their child (copy-on-read, compress, preallocate) or a job's
      if (!['copy-on-read', 'compress', 'preallocate', 'commit_top', 'mirror_top'].includes(d ?? '')) return undefined;
      cur = p.child(cur, 'file') ?? p.child(cur, 'backing');
      continue;
    }
    const child = p.child(cur, link);
    const opened = p.options.get(cur)?.[link];
    const openedName = typeof opened === 'string' ? opened : isObj(opened) && typeof opened['node-name'] === 'string' ? opened['node-name'] : undefined;
    // an inline child without a node-name has an implicit name ('#block…' or 'x.file'); a named one replaced it
    const replaced = child !== undefined && (openedName !== undefined ? child !== openedName : !/[.#]/.test(child));
    if (replaced) return `fuzz 2207863690: ${execute} of '${a.device}' whose filter '${cur}' was opened over another child than '${child}' (7.2: mirror_dirty_init asserts count when that child is shorter)`;
    cur = child;
  }
  return undefined;
}

/**
 * blockdev-snapshot-delete-internal-sync on a read-only qcow2 node (reached through filters and raw,
 * bdrv_snapshot_fallback) over a writable child: qcow2_write_snapshots writes through an edge
 * without the write permission and bdrv_co_write_req_prepare asserts (7.2 and 10.0; the model
 * refuses it, graph/length.ts writeRefusal). A read-only level first fails the write with -EPERM
 * instead (the boundary, abort-16-...-survives). Probed live next to fuzz case 2496934673. Whether the name is in the node's table is not
 * known here: any such delete is avoided.
 */
function snapshotDeleteWithoutWritePerm(execute: string, a: JsonObject, p: ProcView): string | undefined {
  if (execute !== 'blockdev-snapshot-delete-internal-sync' || typeof a.device !== 'string') return undefined;
  const node = (n: string) => p.graph.nodes.find((x) => x.name === n);
  const edge = (n: string, name: string) => p.graph.edges.find((e) => e.parent === n && e.name === name);
  let q: string | undefined = a.device;
  for (let i = 0; q && i < 16 && p.driver(q) !== 'qcow2'; i++) q = (edge(q, 'file') ?? edge(q, 'image'))?.child;
  if (!q || p.driver(q) !== 'qcow2') return undefined;
  let e = edge(q, 'file');
  for (let i = 0; e && i < 16; i++) {
    const c = node(e.child);
    if (!c || c.ro) return undefined;
    if (!e.perm.includes('write')) return `fuzz 2496934673: a snapshot delete on qcow2 '${q}' writes to '${c.name}' through '${e.parent}' without the write permission (bdrv_co_write_req_prepare: Assertion \`child->perm & BLK_PERM_WRITE' failed)`;
    if (c.driver === 'file') return undefined;
    e = edge(c.name, 'file') ?? edge(c.name, 'image');
  }
  return undefined;
}
