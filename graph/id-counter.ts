// util/id.c id_generate(ID_BLOCK): the counter behind the "#blockNNN" names of anonymous nodes is a
// static of the process (id_counters[]), outside every block-layer transaction: a name handed out
// to a node whose open then fails, or whose command is refused and rolled back (tran_abort,
// bdrv_open_inherit's fail path), is never handed out again. The Draft's journal would undo the
// counter with the rest of the command, so the highest value reached is kept here, per Draft and
// per process, where no rollback reaches it; commands/model.ts logs it even for a refused command.
import type { Draft } from './draft.js';
import type { Proc } from './proc.js';
import type { State } from './types.js';

const high = new WeakMap<Draft, Map<string, number>>();

/** The next value of the process's id counter: past everything this command has handed out. */
export function nextAutoName(p: Proc): number {
  const n = Math.max(p.meta().autoName, high.get(p.d)?.get(p.name) ?? 0);
  let m = high.get(p.d);
  if (!m) high.set(p.d, (m = new Map()));
  m.set(p.name, n + 1);
  p.setMeta({ autoName: n + 1 });
  return n;
}

/** Per process, the counter values this Draft's command reached (rolled back or not). */
export function autoNamesReached(d: Draft): ReadonlyMap<string, number> {
  return high.get(d) ?? new Map();
}

/**
 * Anonymous nodes an image creation opens and closes again, each taking a name from the counter
 * (checked on qemu-storage-daemon 7.2: the next inline node's #block number). qcow2_co_create:
 * blk_new_open of the new qcow2 node twice (to make it consistent, then to flush it);
 * qcow2_co_create_opts (bdrv_img_create's path) opens the protocol node first (bdrv_open(filename,
 * BDRV_O_PROTOCOL)). raw_co_create_opts and file-posix's create open no node.
 */
export function creationOpens(format: string, via: 'img-create' | 'blockdev-create'): number {
  // bdrv_qed_co_create_opts opens the protocol node (bdrv_open(filename, BDRV_O_PROTOCOL)) and
  // hands it to bdrv_qed_co_create by name, which opens nothing more
  if (format === 'qed') return via === 'img-create' ? 1 : 0;
  // vdi_co_create_opts, vpc_, vhdx_, parallels_, qcow_co_create_opts: bdrv_open(filename,
  // BDRV_O_PROTOCOL), then their co_create by reference (blk_new_with_bs: no node); vmdk (a
  // monolithicSparse image without backing): vmdk_create_extent's blk_co_new_open of the extent
  if (['vdi', 'vpc', 'vhdx', 'parallels', 'qcow', 'vmdk'].includes(format)) return via === 'img-create' ? 1 : 0;
  if (format !== 'qcow2') return 0;
  return via === 'img-create' ? 3 : 2;
}

/** Takes `count` names from the counter for nodes that never outlive the command. */
export function consumeAutoNames(p: Proc, count: number): void {
  for (let i = 0; i < count; i++) nextAutoName(p);
}

/**
 * The state with every process's id counter taken out (and a process meta that only the counter
 * made exist dropped): what a refusal must leave exactly as it was (specs compare its hash).
 */
export function withoutIdCounters(s: State): State {
  const out: State = {};
  for (const [k, v] of Object.entries(s)) {
    const meta = v?.meta as { proc?: Record<string, unknown> } | undefined;
    if (!meta?.proc) { out[k] = v; continue; }
    const { autoName: _counter, ...proc } = meta.proc;
    // Proc.meta()'s default, whatever the key order
    const isDefault = Object.keys(proc).length === 2 && proc.nbd === null && proc.seq === 0;
    const { proc: _p, ...restMeta } = meta;
    const nextMeta = isDefault ? restMeta : { ...restMeta, proc };
    const { meta: _m, ...rest } = v;
    const next = Object.keys(nextMeta).length ? { ...rest, meta: nextMeta } : rest;
    if (Object.keys(next).length) out[k] = next as State[string];
  }
  return out;
}
