// x-blockdev-amend (block/amend.c qmp_x_blockdev_amend, QEMU 7.2 and 10.0): a plain Job of type
// "amend" (JOB_DEFAULT | JOB_MANUAL_DISMISS: JOB_STATUS_CHANGE only) whose .run is the driver's
// .bdrv_co_amend. Modelled for luks nodes (block_crypto_co_amend_luks →
// qcrypto_block_luks_amend_options) up to the key-slot work: every check that fails the job is
// carried out; an amend that would run the PBKDF and write or erase a key slot is refused as not
// modelled. qcow2's amend (qcow2_co_amend) is refused as not modelled.
import { QmpError } from '../errors/index.js';
import { createJob, registerJobDriver, sendJob, type JobCtx } from '../graph/jobs/runner.js';
import { refreshPerms } from '../graph/refresh.js';
import type { Proc } from '../graph/proc.js';
import { secretLookupUtf8 } from '../graph/secrets.js';
import { imageBehind } from '../graph/images.js';
import type { CommandDef } from './types.js';

const NUM_KEY_SLOTS = 8;
type Opts = Record<string, unknown>;

/** Sets crypto->updating_keys and refreshes the file child's perms (block_crypto_amend_prepare / _cleanup). */
function setUpdatingKeys(p: Proc, node: string, on: boolean): void {
  const n = p.node(node);
  if (!n) return;
  const { updatingKeys: _u, ...rest } = (n.extra ?? {}) as Record<string, unknown>;
  p.patchNode(node, { extra: on ? { ...rest, updatingKeys: true } : rest });
  refreshPerms(p, [node]);
}

// blockdev_amend_free → .bdrv_amend_clean (block_crypto_amend_cleanup): at job-dismiss
registerJobDriver('amend-luks', {
  free: ({ p }, j) => {
    const node = String(j.data.node);
    try {
      setUpdatingKeys(p, node, false);
    } catch (e) {
      // bdrv_child_refresh_perms' error is only reported (error_report_err)
      if (!(e instanceof QmpError)) throw e;
    }
  },
});

/**
 * qcrypto_block_luks_amend_options on the image's key slots: the model's LUKS images have one
 * active slot, 0, holding the passphrase they were made with. Returns the job's error, or throws
 * a refusal where the amend would change a key slot.
 */
function luksAmendError(p: Proc, node: string, o: Opts, force: boolean): string {
  const n = p.node(node)!;
  const file = p.fileChild(node)?.child;
  const img = file ? imageBehind(p, file) : undefined;
  const slot0 = img?.luks?.keyHex;
  const active = (k: number) => k === 0 && slot0 !== undefined;
  const activeCount = slot0 !== undefined ? 1 : 0;
  const lookup = (id: unknown): string | QmpError => {
    try {
      return secretLookupUtf8(p, String(id));
    } catch (e) {
      if (e instanceof QmpError) return e;
      throw e;
    }
  };
  const unmodelled = (what: string) => new QmpError(`blockgraph does not model x-blockdev-amend that ${what} (the PBKDF and the key slot writes)`);
  if (o.state === 'active') {
    // qcrypto_block_luks_amend_add_keyslot
    if (o['new-secret'] === undefined) return "'new-secret' is required to activate a keyslot";
    if (o['old-secret'] !== undefined) return "'old-secret' must not be given when activating keyslots";
    let keyslot: number;
    if (o.keyslot !== undefined) {
      keyslot = Number(o.keyslot);
      if (keyslot < 0 || keyslot >= NUM_KEY_SLOTS) return `Invalid keyslot ${keyslot >>> 0} specified, must be between 0 and ${NUM_KEY_SLOTS - 1}`;
    } else {
      keyslot = 1; // qcrypto_block_luks_find_free_keyslot: the first inactive one
    }
    if (!force && active(keyslot)) return `Refusing to overwrite active keyslot ${keyslot} - please erase it first`;
    // the secret that unlocks the master key: `secret`, or the one the node was opened with
    const old = lookup(o.secret ?? n.options['key-secret']);
    if (old instanceof QmpError) return old.desc;
    throw unmodelled('activates a key slot');
  }
  // qcrypto_block_luks_amend_erase_keyslots
  if (o['new-secret'] !== undefined) return "'new-secret' must not be given when erasing keyslots";
  if (o['iter-time'] !== undefined) return "'iter-time' must not be given when erasing keyslots";
  if (o.secret !== undefined) return "'secret' must not be given when erasing keyslots";
  let oldPassword: string | undefined;
  if (o['old-secret'] !== undefined) {
    const old = lookup(o['old-secret']);
    if (old instanceof QmpError) return old.desc;
    oldPassword = old;
  }
  if (o.keyslot !== undefined) {
    const keyslot = Number(o.keyslot);
    if (keyslot < 0 || keyslot >= NUM_KEY_SLOTS) return `Invalid keyslot ${keyslot} specified, must be between 0 and ${NUM_KEY_SLOTS - 1}`;
    // qcrypto_block_luks_load_key: an inactive slot holds nothing
    if (oldPassword !== undefined && !(active(keyslot) && oldPassword === slot0)) {
      return `Given keyslot ${keyslot} doesn't contain the given old password for erase operation`;
    }
    if (!force && !active(keyslot)) return `Given keyslot ${keyslot} is already erased (inactive) `;
    if (!force && activeCount === 1) {
      return `Attempt to erase the only active keyslot ${keyslot} which will erase all the data in the image irreversibly - refusing operation`;
    }
    throw unmodelled('erases a key slot');
  }
  if (oldPassword !== undefined) {
    const matching = oldPassword === slot0 ? 1 : 0;
    if (matching === 0) return 'No keyslots match given (old) password for erase operation';
    if (!force && matching === activeCount) {
      return 'All the active keyslots match the (old) password that was given and erasing them will erase all the data in the image irreversibly - refusing operation';
    }
    throw unmodelled('erases a key slot');
  }
  return 'To erase keyslot(s), either explicit keyslot index or the password currently contained in them must be given';
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
    if (fmt === 'qcow2') throw new QmpError('blockgraph does not model x-blockdev-amend of qcow2 (qcow2_co_amend)');
    const ctx: JobCtx = { p, emit };
    const force = args.force === true;
    // job_create (JOB_DEFAULT | JOB_MANUAL_DISMISS): the job id's checks
    const job = createJob(ctx, { id: String(args['job-id']), type: 'amend', autoFinalize: true, autoDismiss: false, speed: 0, data: { kind: 'amend-luks', node: name } });
    // blockdev_amend_pre_run → block_crypto_amend_prepare: crypto->updating_keys, then
    // bdrv_child_refresh_perms (a conflict fails the command: job_early_fail)
    setUpdatingKeys(p, name, true);
    // the job's run: what qcrypto_block_luks_amend_options answers
    const error = luksAmendError(p, name, o, force);
    sendJob(ctx, job.id, { type: 'START' });
    sendJob(ctx, job.id, { type: 'FAIL', error });
    return {};
  },
};
