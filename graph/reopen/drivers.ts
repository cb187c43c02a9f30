// What each driver's .bdrv_reopen_prepare does with the options in QEMU 7.2: which keys it
// consumes (absorbs into its QemuOpts, so the final "Cannot change the option" loop never
// sees them), which may be reset by omission (drv->mutable_opts), and its own checks.
import { QmpError } from '../../errors/index.js';
import type { Proc } from '../proc.js';
import type { BdsNode } from '../types.js';
import { qcow2UpdateOptions } from '../driver-options/qcow2.js';
import { type NegativeSizeText, rawApplyOptions, type RawLayout } from '../driver-options/raw.js';
import { rule } from '../rules.js';
import { getLength } from '../length.js';
import { imageBehind } from '../images.js';
import { optString, type Flat } from './qdict.js';
import { throttleGroupExists } from '../throttle-groups.js';
import { preallocateAbsorbOpts } from '../driver-options/preallocate.js';
import { alignment } from '../refresh.js';
import { nbdClientReopenPrepare } from '../driver-options/nbd.js';

/** bdrv_reset_options_allowed: handled by bdrv_reopen_prepare itself for every driver. */
export const COMMON_OPTIONS = ['node-name', 'discard', 'cache.direct', 'cache.no-flush', 'read-only', 'auto-read-only', 'detect-zeroes'];

/** bdrv_runtime_opts: absorbed by the generic prepare; node-name, driver, force-share are put back. */
// (10.0's bdrv_runtime_opts also absorbs `active`, which bdrv_reset_options_allowed's common_options
// lacks: a node given `active` at all can never be reopened, "Option 'active' cannot be reset to
// its default value"; 7.2's schema has no `active`, so no 7.2 node carries it)
export const GENERIC_ABSORBED = ['cache.direct', 'cache.no-flush', 'read-only', 'auto-read-only', 'discard', 'detect-zeroes', 'active'];
export const GENERIC_PUT_BACK = ['node-name', 'driver', 'force-share'];

const QCOW2_OVERLAP = ['template', 'main-header', 'active-l1', 'active-l2', 'refcount-table', 'refcount-block', 'snapshot-table', 'inactive-l1', 'inactive-l2', 'bitmap-directory'];
const QCOW2_MUTABLE = [
  'lazy-refcounts', 'pass-discard-request', 'pass-discard-snapshot', 'pass-discard-other',
  // 10.0's qcow2_runtime_opts (since 8.1; the 7.2 schema refuses it before it gets here)
  'discard-no-unref',
  'overlap-check', ...QCOW2_OVERLAP.map((o) => `overlap-check.${o}`),
  'cache-size', 'l2-cache-size', 'l2-cache-entry-size', 'refcount-cache-size', 'cache-clean-interval',
];
const FILE_OPTS = ['filename', 'aio', 'aio-max-batch', 'locking', 'pr-manager', 'drop-cache', 'x-check-cache-dropped'];

/** drv->mutable_opts */
export const MUTABLE: Record<string, string[]> = {
  qcow2: QCOW2_MUTABLE,
  raw: ['offset', 'size'],
  throttle: ['throttle-group'],
  file: ['x-check-cache-dropped'],
};

export interface DriverPrepared {
  /** Driver state to install at commit (node.extra patch). */
  extra?: Record<string, unknown>;
  /** The node's new length (raw: the slice's size). */
  size?: number;
  /** raw: offset and size as raw_reopen_commit installs them (raw_getlength's inputs). */
  layout?: RawLayout;
}

/** The image a qcow2 node reads its header from (its cluster size). */
function fileImage(p: Proc, n: BdsNode) {
  const f = p.fileChild(n.name);
  return f ? imageBehind(p, f.child) : undefined;
}

/**
 * The driver's .bdrv_reopen_prepare on `o` (the entry's options, already without the generic
 * keys): removes what it consumes and throws its error text. `readOnly`: the entry's new
 * read-only flag (reopen_state->flags without BDRV_O_RDWR).
 */
export function driverPrepare(p: Proc, n: BdsNode, o: Flat, readOnly: boolean): DriverPrepared {
  switch (n.driver) {
    case 'nbd':
      // nbd_client_reopen_prepare: consumes nothing, refuses read-write over a read-only export
      nbdClientReopenPrepare(n, readOnly);
      return {};
    case 'qcow2': {
      // qcow2_reopen_prepare → qcow2_update_options_prepare on the reopen's options
      const img = fileImage(p, n);
      qcow2UpdateOptions(o, { clusterSize: img?.clusterSize ?? 65536, virtualSize: n.size, compat: img?.compat, encrypted: img?.luks ? 'luks' : undefined }, rule(p, 'qemuopts-size-negative-text') as NegativeSizeText);
      for (const k of Object.keys(o)) if (QCOW2_MUTABLE.includes(k) || k.startsWith('encrypt.')) delete o[k];
      return {};
    }
    case 'throttle': {
      const group = String(o['throttle-group']);
      delete o['throttle-group'];
      // throttle_group_exists: an object's group or one a BlockBackend made (graph/throttle-groups.ts)
      if (!throttleGroupExists(p, group)) throw new QmpError(`Throttle group '${group}' does not exist`);
      return { extra: { ...(n.extra ?? {}), group } };
    }
    case 'raw': {
      // raw_reopen_prepare: checked against the current file child (the file swap comes later)
      const f = p.fileChild(n.name);
      // bdrv_getlength(bs->file->bs) (graph/length.ts: a variable-length child is asked again)
      const fileSize = f ? getLength(p, f.child) : 0;
      const layout = rawApplyOptions(o, fileSize, rule(p, 'qemuopts-size-negative-text') as NegativeSizeText);
      delete o.offset;
      delete o.size;
      return { size: layout.size, layout };
    }
    case 'preallocate': {
      // preallocate_reopen_prepare: preallocate_absorb_opts on the reopen's options against the
      // current bs->file->bs (no mutable_opts: an omitted option keeps nothing to compare)
      const f = p.fileChild(n.name);
      const child = f ? p.node(f.child) : undefined;
      preallocateAbsorbOpts(o, child ? alignment(p, child) : 1, rule(p, 'qemuopts-size-negative-text') as NegativeSizeText);
      delete o['prealloc-align'];
      delete o['prealloc-size'];
      return {};
    }
    case 'file': {
      // raw_reopen_prepare → raw_reconfigure_getfd: an access mode that changes (read-only
      // flipped) cannot be had by dup'ing the fd, so the file is opened again by name: a file
      // unlinked after its open (BDRV_O_TEMPORARY, a snapshot=on overlay: raw_open_common) is
      // gone — "Could not reopen file: No such file or directory"
      if (n.unlinked && readOnly !== n.ro) throw new QmpError('Could not reopen file: No such file or directory');
      // raw_reopen_prepare: drop-cache and x-check-cache-dropped are consumed, the rest goes
      // back as QemuOpts strings and is compared with the old (typed) values.
      const back: Flat = {};
      for (const k of FILE_OPTS) if (k in o) { back[k] = o[k]; delete o[k]; }
      delete back['drop-cache'];
      delete back['x-check-cache-dropped'];
      for (const [k, v] of Object.entries(back)) o[k] = optString(v);
      return {};
    }
    default:
      return {}; // null-co, blkdebug: prepare accepts anything and consumes nothing
  }
}
