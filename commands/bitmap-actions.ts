// The transaction actions on dirty bitmaps (blockdev.c, QEMU 7.2: block_dirty_bitmap_*_prepare,
// _commit, _abort): each checks completion-mode first (action_check_completion_mode), then does
// in .prepare what the QMP command does, so later actions of the same transaction see it. Abort
// is the Draft's rollback of the whole transaction (tran_abort). remove is the one with a commit:
// its prepare takes the bitmap out of the image and marks it busy (skip_store + set_busy), so a
// later action on it in the same transaction is refused; commit releases it.
import {
  BITMAP_ALLOW_RO, dirtyBitmapCheck, dirtyBitmapLookup, findDirtyBitmap, patchDirtyBitmap, releaseDirtyBitmap, removePersistentBitmap,
  setDirtyBitmapBusy,
} from '../graph/bitmaps.js';
import { bitmapAdd, bitmapClear, bitmapMerge, bitmapRemove, bitmapSetEnabled, type BitmapAddArgs, type BitmapSource } from './block-dirty-bitmap.js';
import type { ActionCtx, ActionDef, PreparedAction } from './transaction.js';
import { QmpError } from '../errors/index.js';
import { QemuAbortRefusal } from '../graph/qemu-abort.js';

/**
 * block_dirty_bitmap_enable/disable_prepare and _abort. state->was_enabled starts at 0 (g_malloc0)
 * and is set only once the lookup and check passed; state->bitmap is set by the lookup. So the
 * enable abort disables a bitmap whose check failed (busy, inconsistent), and with no bitmap at
 * all (lookup or completion-mode failed) QEMU (7.2 and 10.0) dereferences NULL and dies: the model
 * refuses with an error that says so (QemuAbortRefusal) and leaves the graph alone. Each abort sets an absolute value, so running
 * them in reverse order on the rolled-back state gives QEMU's final flags.
 */
function enableAction(ctx: ActionCtx, d: Record<string, any>, kind: string, enable: boolean): PreparedAction {
  const node = String(d.node);
  const name = String(d.name);
  let found = false;
  let wasEnabled = false;
  ctx.onAbortResidue((q) => {
    if (!found || !findDirtyBitmap(q, node, name)) return;
    if (enable && !wasEnabled) patchDirtyBitmap(q, node, name, { disabled: true });
    if (!enable && wasEnabled) patchDirtyBitmap(q, node, name, { disabled: false });
  });
  let bitmap: ReturnType<typeof dirtyBitmapLookup>['bitmap'];
  try {
    ctx.checkCompletionMode(kind);
    bitmap = dirtyBitmapLookup(ctx.p, node, name).bitmap;
  } catch (e) {
    // block_dirty_bitmap_enable_abort runs for the failed action too, with state->bitmap still
    // NULL and was_enabled 0: bdrv_disable_dirty_bitmap(NULL) takes NULL->bs's lock. QSD 7.2.22
    // and 10.0.2 both die (SIGSEGV; oracle/scenarios/qemu-aborts/abort-9-txn-enable-unknown-node).
    // The disable action's abort only re-enables a bitmap that was enabled: its failure is QEMU's error.
    if (enable && e instanceof QmpError) {
      throw new QemuAbortRefusal(`${e.desc} (QEMU crashes here: block_dirty_bitmap_enable_abort calls bdrv_disable_dirty_bitmap(NULL), ` +
        'segmentation fault); refused by blockgraph', 'block_dirty_bitmap_enable_abort');
    }
    throw e;
  }
  found = true;
  dirtyBitmapCheck(bitmap, BITMAP_ALLOW_RO);
  wasEnabled = !bitmap.disabled;
  bitmapSetEnabled(ctx.p, node, name, enable);
  return {};
}

export const BITMAP_ACTIONS: [string, ActionDef][] = [
  ['block-dirty-bitmap-add', (ctx, d, kind) => {
    ctx.checkCompletionMode(kind);
    bitmapAdd(ctx.p, d as BitmapAddArgs);
    return {};
  }],
  ['block-dirty-bitmap-remove', (ctx, d, kind) => {
    const node = String(d.node);
    const name = String(d.name);
    let leftImage = false;
    // block_dirty_bitmap_remove_abort clears skip_store and busy but does not put the image's
    // directory entry back (bdrv_remove_persistent_dirty_bitmap ran in prepare)
    ctx.onAbortResidue((q) => { if (leftImage && q.node(node)) removePersistentBitmap(q, node, name); });
    ctx.checkCompletionMode(kind);
    leftImage = bitmapRemove(ctx.p, node, name, false).bitmap.persistent;
    setDirtyBitmapBusy(ctx.p, node, name, true);
    return {
      // block_dirty_bitmap_remove_commit: set_busy(false), then bdrv_release_dirty_bitmap
      commit: () => releaseDirtyBitmap(ctx.p, node, name),
    };
  }],
  ['block-dirty-bitmap-clear', (ctx, d, kind) => {
    ctx.checkCompletionMode(kind);
    bitmapClear(ctx.p, String(d.node), String(d.name));
    return {};
  }],
  ['block-dirty-bitmap-enable', (ctx, d, kind) => enableAction(ctx, d, kind, true)],
  ['block-dirty-bitmap-disable', (ctx, d, kind) => enableAction(ctx, d, kind, false)],
  ['block-dirty-bitmap-merge', (ctx, d, kind) => {
    ctx.checkCompletionMode(kind);
    const sources = (d.bitmaps ?? []) as BitmapSource[];
    bitmapMerge(ctx.p, String(d.node), String(d.target), sources);
    // block_dirty_bitmap_merge keeps a backup only of its first source's merge: with an empty
    // list state->backup stays NULL, and block_dirty_bitmap_free_backup (the action's .commit)
    // calls hbitmap_free(NULL), which reads hb->meta: QSD 7.2.22 and 10.0.2 both die (SIGSEGV;
    // stop 42: oracle/scenarios/qemu-aborts/abort-42-txn-merge-empty-list). A transaction that
    // fails instead runs block_dirty_bitmap_restore, which checks the backup: it survives
    // (abort-42-txn-merge-empty-list-then-fails-survives). The plain command dies at once
    // (commands/block-dirty-bitmap.ts).
    if (sources.length === 0) {
      return {
        commit: () => {
          throw new QemuAbortRefusal(`Merging no bitmaps into '${String(d.target)}' in a transaction (QEMU crashes here: ` +
            'block_dirty_bitmap_free_backup calls hbitmap_free(NULL), segmentation fault); refused by blockgraph', 'block_dirty_bitmap_free_backup');
        },
      };
    }
    return {};
  }],
];
