// x-blockdev-amend (block/amend.c qmp_x_blockdev_amend, QEMU 7.2 and 10.0): a plain Job of type
// "amend" (JOB_DEFAULT | JOB_MANUAL_DISMISS: JOB_STATUS_CHANGE only) whose .run is the driver's
// .bdrv_co_amend: luks nodes (block_crypto_co_amend_luks) and LUKS-encrypted qcow2 nodes
// (qcow2_co_amend), both through qcrypto_block_luks_amend_options: key slots added and erased in
// the image's header (graph/luks.ts keeps each slot's passphrase digest).
import { QmpError } from '../errors/index.js';
import { createJob, patchJobData, registerJobDriver, sendJob, type JobCtx } from '../graph/jobs/runner.js';
import { addRef, dropRef } from '../graph/jobs/parts.js';
import { luksSlots, luksWithSlot, QCRYPTO_BLOCK_LUKS_NUM_KEY_SLOTS } from '../graph/luks.js';
import { HOST, type Image } from '../graph/types.js';
import { QemuAbortRefusal } from '../graph/qemu-abort.js';
import { rule } from '../graph/rules.js';
import { refreshPerms } from '../graph/refresh.js';
import type { Proc } from '../graph/proc.js';
import { secretLookupUtf8 } from '../graph/secrets.js';
import { imageBehind } from '../graph/images.js';
import type { CommandDef } from './types.js';

type Opts = Record<string, unknown>;

/** Sets crypto->updating_keys and refreshes the file child's perms (block_crypto_amend_prepare / _cleanup). */
function setUpdatingKeys(p: Proc, node: string, on: boolean): void {
  const n = p.node(node);
  if (!n) return;
  const { updatingKeys: _u, ...rest } = (n.extra ?? {}) as Record<string, unknown>;
  p.patchNode(node, { extra: on ? { ...rest, updatingKeys: true } : rest });
  refreshPerms(p, [node]);
}

/** The key slots a finished amend wrote (qcrypto_block_luks_store_key / _erase_key). */
function writeSlots(p: Proc, j: { data: Record<string, unknown> }): void {
  const slots = j.data.slots as (string | null)[] | undefined;
  const node = String(j.data.node);
  const img = p.node(node) ? headerImage(p, node) : undefined;
  if (!slots || !img?.luks) return;
  let h = img.luks;
  for (let k = 0; k < slots.length; k++) h = luksWithSlot(h, k, slots[k]!);
  p.d.put(HOST, 'images', img.file, { ...img, luks: h });
}

// blockdev_amend_free: bdrv_unref(s->bs), the reference qmp_x_blockdev_amend took (after
// .bdrv_amend_clean): until the job is dismissed its node is "in use" to blockdev-del
registerJobDriver('amend-qcow2', { commit: ({ p }, j) => writeSlots(p, j), free: ({ p }, j) => dropRef(p, String(j.data.node)) });

// blockdev_amend_free → .bdrv_amend_clean (block_crypto_amend_cleanup): at job-dismiss
registerJobDriver('amend-luks', {
  commit: ({ p }, j) => writeSlots(p, j),
  free: ({ p }, j) => {
    const node = String(j.data.node);
    try {
      setUpdatingKeys(p, node, false);
    } catch (e) {
      // bdrv_child_refresh_perms' error is only reported (error_report_err)
      if (!(e instanceof QmpError)) throw e;
    }
    dropRef(p, node);
  },
});

/**
 * What an amend's job does (qcrypto_block_luks_amend_options): the error it ends with, whether
 * it gets there only after the job's first I/O (`deferred`: the header's key material is read or
 * written through the file child, bdrv_pread/bdrv_pwrite yield, and the job's coroutine goes on
 * after the command has answered: its later statuses follow the reply and reach the client at
 * the `wait`; the model keeps the job running until then, x-blockgraph-job-advance), and the key
 * slots it leaves (written when the job completes).
 */
interface AmendPlan { error?: string; deferred: boolean; slots?: (string | null)[] }

/**
 * qcrypto_block_luks_amend_add_keyslot / _erase_keyslots over the image's key slots (each a
 * passphrase digest or null, graph/luks.ts). `unlock`: the secret the node was opened with
 * (luks->secret: key-secret, or encrypt.key-secret of a qcow2).
 */
function luksAmendPlan(p: Proc, slots0: (string | null)[], o: Opts, force: boolean, unlock: unknown): AmendPlan {
  const slots = [...slots0];
  const active = (k: number) => slots[k] !== null && slots[k] !== undefined;
  const activeCount = () => slots.filter((x) => x !== null).length;
  const lookup = (id: unknown): string | QmpError => {
    try {
      return secretLookupUtf8(p, String(id));
    } catch (e) {
      if (e instanceof QmpError) return e;
      throw e;
    }
  };
  const now = (error: string): AmendPlan => ({ error, deferred: false });
  if (o.state === 'active') {
    // qcrypto_block_luks_amend_add_keyslot
    if (o['new-secret'] === undefined) return now("'new-secret' is required to activate a keyslot");
    if (o['old-secret'] !== undefined) return now("'old-secret' must not be given when activating keyslots");
    let keyslot: number;
    if (o.keyslot !== undefined) {
      keyslot = Number(o.keyslot);
      if (keyslot < 0 || keyslot >= QCRYPTO_BLOCK_LUKS_NUM_KEY_SLOTS) return now(`Invalid keyslot ${keyslot >>> 0} specified, must be between 0 and ${QCRYPTO_BLOCK_LUKS_NUM_KEY_SLOTS - 1}`);
    } else {
      // qcrypto_block_luks_find_free_keyslot: the first inactive one
      keyslot = slots.findIndex((x) => x === null);
      if (keyslot < 0) return now("Can't add a keyslot - all keyslots are in use");
    }
    if (!force && active(keyslot)) return now(`Refusing to overwrite active keyslot ${keyslot} - please erase it first`);
    // the password that unlocks the master key: `secret`, or the one the node was opened with
    const old = lookup(o.secret ?? unlock);
    if (old instanceof QmpError) return now(old.desc);
    // qcrypto_block_luks_find_key: each active slot read (I/O) and tried in turn
    if (activeCount() === 0) return now('Invalid password, cannot unlock any keyslot');
    if (!slots.includes(old)) return { error: 'Invalid password, cannot unlock any keyslot', deferred: true };
    const added = lookup(o['new-secret']);
    if (added instanceof QmpError) return { error: added.desc, deferred: true };
    // qcrypto_block_luks_store_key: the PBKDF benchmark, the split key and the header written
    slots[keyslot] = added;
    return { deferred: true, slots };
  }
  // qcrypto_block_luks_amend_erase_keyslots
  if (o['new-secret'] !== undefined) return now("'new-secret' must not be given when erasing keyslots");
  if (o['iter-time'] !== undefined) return now("'iter-time' must not be given when erasing keyslots");
  if (o.secret !== undefined) return now("'secret' must not be given when erasing keyslots");
  let oldPassword: string | undefined;
  if (o['old-secret'] !== undefined) {
    const old = lookup(o['old-secret']);
    if (old instanceof QmpError) return now(old.desc);
    oldPassword = old;
  }
  if (o.keyslot !== undefined) {
    const keyslot = Number(o.keyslot);
    if (keyslot < 0 || keyslot >= QCRYPTO_BLOCK_LUKS_NUM_KEY_SLOTS) return now(`Invalid keyslot ${keyslot} specified, must be between 0 and ${QCRYPTO_BLOCK_LUKS_NUM_KEY_SLOTS - 1}`);
    // qcrypto_block_luks_load_key: an inactive slot is not read (0 at once); an active one is
    let read = false;
    if (oldPassword !== undefined) {
      read = active(keyslot);
      if (!(read && slots[keyslot] === oldPassword)) {
        return { error: `Given keyslot ${keyslot} doesn't contain the given old password for erase operation`, deferred: read };
      }
    }
    if (!force && !active(keyslot)) return { error: `Given keyslot ${keyslot} is already erased (inactive) `, deferred: read };
    if (!force && activeCount() === 1) {
      return { error: `Attempt to erase the only active keyslot ${keyslot} which will erase all the data in the image irreversibly - refusing operation`, deferred: read };
    }
    // qcrypto_block_luks_erase_key: the slot's key material overwritten, the header written
    slots[keyslot] = null;
    return { deferred: true, slots };
  }
  if (oldPassword !== undefined) {
    const read = activeCount() > 0;
    const matching = slots.map((x, i) => (x !== null && x === oldPassword ? i : -1)).filter((i) => i >= 0);
    if (matching.length === 0) return { error: 'No keyslots match given (old) password for erase operation', deferred: read };
    if (!force && matching.length === activeCount()) {
      return {
        error: 'All the active keyslots match the (old) password that was given and erasing them will erase all the data in the image irreversibly - refusing operation',
        deferred: read,
      };
    }
    for (const i of matching) slots[i] = null;
    return { deferred: true, slots };
  }
  return now('To erase keyslot(s), either explicit keyslot index or the password currently contained in them must be given');
}

/** The image whose LUKS header node `node` reads (a luks node's file, a qcow2 node's file). */
function headerImage(p: Proc, node: string): Image | undefined {
  const file = p.fileChild(node)?.child;
  return file ? imageBehind(p, file) : undefined;
}

/**
 * qcow2_co_amend: only `encrypt` is amendable; its checks, then qcrypto_block_amend_options
 * ("Cannot amend encryption format" for another format than the header's).
 */
function qcow2AmendPlan(p: Proc, node: string, o: Opts, force: boolean): AmendPlan {
  if (o.encrypt === undefined) return { deferred: false };
  const enc = o.encrypt as Opts;
  const n = p.node(node)!;
  const img = headerImage(p, node);
  // s->crypto: an image opened with its encryption (the model's encrypted qcow2s are LUKS ones)
  if (!img?.luks) return { error: "image is not encrypted, can't amend", deferred: false };
  if (enc.format !== 'luks') return { error: "Amend can't be used to change the qcow2 encryption format", deferred: false };
  const unlock = (n.options.encrypt as Opts | undefined)?.['key-secret'] ?? n.options['encrypt.key-secret'];
  return luksAmendPlan(p, luksSlots(img.luks), enc, force, unlock);
}

export const xBlockdevAmend: CommandDef = {
  name: 'x-blockdev-amend',
  mutates: true,
  run({ p, args, emit }) {
    const name = String(args['node-name']);
    const o = (args.options ?? {}) as Opts;
    const fmt = String(o.driver);
    // bdrv_lookup_bs(NULL, node_name)
    const n = p.node(name);
    if (!n) throw new QmpError(`Cannot find device='' nor node-name='${name}'`);
    // (bdrv_find_format: every schema driver the model has is built into Debian's QSD)
    if (n.driver !== fmt) throw new QmpError("x-blockdev-amend doesn't support changing the block driver");
    // only luks (block_crypto_co_amend_luks) and qcow2 (qcow2_co_amend) have .bdrv_co_amend
    if (fmt !== 'luks' && fmt !== 'qcow2') throw new QmpError('Driver does not support x-blockdev-amend');
    const ctx: JobCtx = { p, emit };
    const force = args.force === true;
    // job_create (JOB_DEFAULT | JOB_MANUAL_DISMISS): the job id's checks
    const job = createJob(ctx, { id: String(args['job-id']), type: 'amend', autoFinalize: true, autoDismiss: false, speed: 0, data: { kind: `amend-${fmt}`, node: name } });
    // qmp_x_blockdev_amend: bdrv_ref(bs) once the job exists (s->bs), dropped at blockdev_amend_free
    // (fuzz 747462203: blockdev-del of the node before the dismiss is "Block device n9 is in use")
    addRef(p, name);
    let plan: AmendPlan;
    if (fmt === 'luks') {
      // blockdev_amend_pre_run → block_crypto_amend_prepare: crypto->updating_keys, then
      // bdrv_child_refresh_perms (a conflict fails the command: job_early_fail)
      setUpdatingKeys(p, name, true);
      const img = headerImage(p, name);
      // (a luks node is open: its file holds a LUKS header)
      plan = luksAmendPlan(p, img?.luks ? luksSlots(img.luks) : [], o, force, n.options['key-secret']);
    } else {
      plan = qcow2AmendPlan(p, name, o, force);
    }
    // QEMU 10.0 dies in the header I/O a luks node's amend does (graph/rules.ts)
    if (fmt === 'luks' && plan.deferred && rule(p, 'luks-amend-header-io-aborts')) {
      throw new QemuAbortRefusal(
        "x-blockdev-amend of a luks node that reads or writes its key slots: QEMU 10.0 aborts in the job (block_crypto_read_func: bdrv_graph_rdlock_main_loop: Assertion `!qemu_in_coroutine()' failed); refused by blockgraph",
        'block_crypto_read_func',
      );
    }
    sendJob(ctx, job.id, { type: 'START' });
    if (plan.deferred) {
      // the job runs on after the reply (AmendPlan); its end is taken at the next advance
      patchJobData(p, job.id, { ...(plan.error !== undefined ? { endError: plan.error } : {}), ...(plan.slots ? { slots: plan.slots } : {}) });
      return {};
    }
    sendJob(ctx, job.id, plan.error === undefined ? { type: 'DONE' } : { type: 'FAIL', error: plan.error });
    return {};
  },
};
