// A BlockBackend's own state that query-block and query-blockstats read on a VM, beside its node's:
// the I/O status (block/block-backend.c blk_iostatus_is_enabled) and the accounting
// (block/accounting.c BlockAcctStats: account_invalid/account_failed, the timed intervals, the
// latency histograms), as block/qapi.c bdrv_query_info and bdrv_query_blk_stats give them. No
// guest ever runs I/O here, so every counter, latency and histogram bin is 0; what a scenario sets
// (a drive's or a device's options, block-latency-histogram-set) is kept on the BlockBackend.
import type { Device } from '../../graph/devices/types.js';
import type { Proc } from '../../graph/proc.js';
import { rule } from '../../graph/rules.js';
import type { BlockBackend } from '../../graph/types.js';

/**
 * The device kinds whose realize calls blk_iostatus_enable: virtio_blk_device_realize,
 * scsi-disk's scsi_realize (scsi-hd, scsi-cd, scsi-block, the legacy scsi-disk a usb-storage
 * makes) and ide_init_drive (ide-hd, ide-cd). nvme, floppy and usb-storage's own never do.
 */
const IOSTATUS_KINDS = new Set(['virtio-blk-pci', 'virtio-blk-device', 'scsi-hd', 'scsi-cd', 'scsi-block', 'scsi-disk', 'ide-hd', 'ide-cd']);

/** A device's BlockdevOnError property, `auto` when not set (DEFINE_BLOCK_ERROR_PROPERTIES' default). */
function onErrorProp(d: Device, k: 'rerror' | 'werror'): string {
  const v = d.props?.[k];
  return typeof v === 'string' ? v : 'auto';
}

/**
 * The BlockBackend's error actions: blkconf_apply_backend_options (hw/block/block.c) sets the
 * device's rerror/werror, `auto` keeping what the BlockBackend had (blk_get_on_error): a legacy
 * drive's (blockdev_init's werror/rerror, BlockBackend.onError), else blk_new's report/enospc. A
 * device's properties never change after realize, so reading them here is what realize stored.
 */
export function blkOnError(b: BlockBackend, d: Device | undefined): { read: string; write: string } {
  const base = b.onError ?? { read: 'report', write: 'enospc' };
  if (!d || b.onErrorLast) return base;
  const r = onErrorProp(d, 'rerror');
  const w = onErrorProp(d, 'werror');
  return { read: r === 'auto' ? base.read : r, write: w === 'auto' ? base.write : w };
}

/**
 * blk_iostatus_is_enabled: the device enabled it (IOSTATUS_KINDS) and an error action can stop the
 * VM (werror enospc or stop, rerror stop); bdrv_query_info lists `io-status` only then. No guest
 * I/O ever failed here, so the status is `ok`.
 */
export function blkIostatus(b: BlockBackend, d: Device | undefined): 'ok' | undefined {
  if (!d || !IOSTATUS_KINDS.has(d.driver)) return undefined;
  const e = blkOnError(b, d);
  return e.write === 'enospc' || e.write === 'stop' || e.read === 'stop' ? 'ok' : undefined;
}

/** OnOffAuto → bool (block/accounting.c bool_from_onoffauto). */
function onOffAuto(v: unknown, def: boolean): boolean {
  if (v === 'on' || v === true) return true;
  if (v === 'off' || v === false) return false;
  return def;
}

/** The latency histogram kinds bdrv_query_blk_stats lists (10.0 adds zone append, qapi-schema). */
type HistKind = 'read' | 'write' | 'zone_append' | 'flush';

/**
 * bdrv_query_blk_stats' BlockBackend-level members over the node stats: account_invalid and
 * account_failed (block_acct_init's true, blockdev_init's and then the device's block_acct_setup
 * with OnOffAuto), timed_stats (one per interval, in the order the drive gave them:
 * block_acct_add_interval inserts at the head and QAPI_LIST_PREPEND reverses again), and each
 * latency histogram that is set (bdrv_latency_histogram_stats: bins one more than boundaries).
 */
export function blkAccounting(p: Proc, b: BlockBackend, d: Device | undefined): Record<string, unknown> {
  const ten = rule(p, 'qapi-schema') === '10.0';
  const out: Record<string, unknown> = {
    account_invalid: onOffAuto(d?.props?.['account-invalid'], b.acct?.invalid ?? true),
    account_failed: onOffAuto(d?.props?.['account-failed'], b.acct?.failed ?? true),
    timed_stats: (b.acct?.intervals ?? []).map((len) => {
      const t: Record<string, unknown> = { interval_length: len };
      for (const io of ten ? ['rd', 'wr', 'zone_append', 'flush'] : ['rd', 'wr', 'flush']) {
        t[`min_${io}_latency_ns`] = 0; t[`max_${io}_latency_ns`] = 0; t[`avg_${io}_latency_ns`] = 0;
      }
      t.avg_rd_queue_depth = 0; t.avg_wr_queue_depth = 0;
      if (ten) t.avg_zone_append_queue_depth = 0;
      return t;
    }),
  };
  const h = b.histograms ?? {};
  const kinds: HistKind[] = ten ? ['read', 'write', 'zone_append', 'flush'] : ['read', 'write', 'flush'];
  const key: Record<HistKind, string> = { read: 'rd', write: 'wr', zone_append: 'zone_append', flush: 'flush' };
  for (const k of kinds) {
    const bounds = h[k];
    if (bounds) out[`${key[k]}_latency_histogram`] = { boundaries: bounds, bins: new Array(bounds.length + 1).fill(0) };
  }
  return out;
}
