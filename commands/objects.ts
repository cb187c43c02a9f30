import { QmpError } from '../errors/index.js';
import { qdictOrder } from './schema/ghash.js';
import type { Proc } from '../graph/proc.js';
import { nameWellFormed } from '../graph/ops.js';
import { buses, devices } from '../graph/devices/ops.js';
import type { CommandDef } from './types.js';
import { setThrottleGroupProps } from './throttle-group.js';
import { throttleGroupExists, throttleGroupUsers } from '../graph/throttle-groups.js';
import { secretComplete } from '../graph/secrets.js';
import type { SecretFacts } from '../graph/types.js';

/**
 * QEMU 7.2 lets object-del delete an iothread whose AioContext nodes still use (user_creatable_del
 * only asks iothread's can_be_deleted, which is always true; iothread_instance_finalize unrefs
 * the context). The nodes keep the freed AioContext, and the next command that locks it
 * (query-named-block-nodes, blockdev-del, the exit's bdrv_close_all) aborts the daemon with
 * `qemu_mutex_lock_impl: Assertion 'mutex->initialized' failed` (found by the fuzzer; recorded on
 * QSD 7.2.22 with a node moved by x-blockdev-set-iothread and with an export's iothread). An
 * iothread no node is in is deleted fine. The model refuses instead of reaching a state QEMU
 * never reports.
 */
function refuseDeleteIothreadInUse(p: Proc, id: string): void {
  // On a VM, a virtio-scsi controller's or a virtio-blk's `iothread` is a qdev link property
  // (DEFINE_PROP_LINK → object_property_add_link with OBJ_PROP_LINK_STRONG): it holds a reference,
  // so object-del only unparents the iothread from /objects (its id is free again) and
  // iothread_instance_finalize does not run: the AioContext lives on with the device, nothing
  // aborts (found by fuzz --against vm seed 42; oracle/transcripts/vm/fuzz-vm-object-del-linked-iothread.json)
  if (buses(p).some((b) => b.iothread === id) || devices(p).some((d) => d.iothread === id)) return;
  const user = p.nodes().find((n) => n.aio === id);
  if (user) {
    throw new QmpError(
      `Cannot delete iothread '${id}': node '${user.name}' is in its AioContext ` +
      "(QEMU 7.2 deletes it and aborts at the next use of the context: qemu_mutex_lock_impl: Assertion `mutex->initialized' failed); refused by blockgraph",
    );
  }
}

/** object-add for the two QOM types block graphs use: iothread and throttle-group. */
export const objectAdd: CommandDef = {
  name: 'object-add',
  mutates: true,
  run({ p, args }) {
    const id = String(args.id);
    const qomType = String(args['qom-type']);
    const { id: _i, 'qom-type': _t, ...props } = args;
    // user_creatable_add_type: the id is checked before anything else (id_wellformed): a
    // BlockBackend's throttle group may be called "/machine/peripheral/vd0/virtio-backend", an object never
    if (!nameWellFormed(id)) throw new QmpError("Parameter 'id' expects an identifier");
    // user_creatable_add_type: properties are set first, then the object joins /objects
    // (duplicate id), then .complete runs
    let secret: SecretFacts | undefined;
    const complete = qomType === 'throttle-group' ? setThrottleGroupProps(props)
      : qomType === 'iothread' ? setIothreadProps(props)
        : qomType === 'secret' ? setSecretProps(props, (facts) => { secret = facts; }, p)
          : () => undefined;
    if (p.object(id)) throw new QmpError(`attempt to add duplicate property '${id}' to object (type 'container')`);
    // throttle_group_obj_complete: a group a BlockBackend or a throttle node still holds has the name
    if (qomType === 'throttle-group' && throttleGroupExists(p, id)) throw new QmpError('A group with this name already exists');
    complete();
    // a secret's `data` is not kept: its digest is (graph/secret-digest.ts; docs/hostile.md)
    const { data: _d, ...kept } = props;
    p.putObject(secret !== undefined ? { id, qomType, props: kept, secret } : { id, qomType, props });
    return {};
  },
};

/**
 * A secret's properties (crypto/secret_common.c): 7.2's read-only `loaded` (no setter:
 * object_property_set refuses it while the QDict is applied, before the id is taken; 10.0's
 * schema has no `loaded` at all); the others only store a string. Then .complete,
 * qcrypto_secret_complete, loads and decodes the data (graph/secrets.ts).
 */
function setSecretProps(props: Record<string, unknown>, loaded: (facts: SecretFacts) => void, p: Proc): () => void {
  if (props.loaded !== undefined) throw new QmpError("Property 'secret.loaded' is not writable");
  return () => loaded(secretComplete(p, props));
}

/**
 * An iothread's properties (iothread.c iothread_set_param, event-loop-base.c
 * event_loop_base_set_param): each is an int64 that must not be negative. They are set in the
 * order the arguments come (object_set_properties_from_qdict), before the id is taken; then
 * .complete (iothread_init -> iothread_set_aio_context_params -> aio_context_set_thread_pool_params)
 * refuses a pool whose min exceeds its max, a max of 0, or either above INT_MAX (max defaults
 * to THREAD_POOL_MAX_THREADS_DEFAULT, 64).
 */
function setIothreadProps(props: Record<string, unknown>): () => void {
  // IothreadProperties' member order (qapi/qom.json): user_creatable_add_qapi's output visitor
  // fills the QDict in it, and object_set_properties_from_qdict sets the properties in the QDict's
  // iteration order (hash buckets: commands/schema/ghash.ts qdictOrder), not the request's
  const INT64 = ['aio-max-batch', 'thread-pool-min', 'thread-pool-max', 'poll-max-ns', 'poll-grow', 'poll-shrink'];
  for (const k of qdictOrder(INT64.filter((x) => props[x] !== undefined))) {
    const v = props[k];
    if (typeof v === 'number' && v < 0) throw new QmpError(`${k} value must be in range [0, 9223372036854775807]`);
  }
  return () => {
    const min = typeof props['thread-pool-min'] === 'number' ? props['thread-pool-min'] : 0;
    const max = typeof props['thread-pool-max'] === 'number' ? props['thread-pool-max'] : 64;
    const INT_MAX = 2147483647;
    if (min > max || !max || min > INT_MAX || max > INT_MAX) throw new QmpError('bad thread-pool-min/thread-pool-max values');
  };
}

export const objectDel: CommandDef = {
  name: 'object-del',
  mutates: true,
  run({ p, args }) {
    const id = String(args.id);
    const o = p.object(id);
    if (!o) throw new QmpError(`object '${id}' not found`);
    // throttle_group_can_be_deleted: no throttle node and no throttled BlockBackend holds the group
    const users = o.qomType === 'throttle-group' ? throttleGroupUsers(p, id) : undefined;
    const inUse = users !== undefined && (users.nodes.length > 0 || users.bbs.length > 0);
    if (inUse) throw new QmpError(`object '${id}' is in use, can not be deleted`);
    if (o.qomType === 'iothread') refuseDeleteIothreadInUse(p, id);
    p.delObject(id);
    return {};
  },
};
