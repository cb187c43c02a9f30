// qom-get and qom-set (qom/qom-qmp-cmds.c qmp_qom_get / qmp_qom_set) on the user-created objects
// the model keeps: object_resolve_path finds /objects/ID, or ID as a partial path; nothing found
// is DeviceNotFound ("Device '%s' not found"). A throttle-group's properties (block/throttle-groups.c):
// `limits` reads the live config (throttle_group_get_limits) and sets members of it in one go
// (throttle_group_set_limits: throttle_limits_to_config validates, a failure changes nothing);
// the `x-` properties read fine but refuse a set once the object is complete ("Property cannot be
// set after initialization"); another name is "Property 'throttle-group.NAME' not found"
// (object_property_find_err). Other paths (the QOM tree beyond /objects) and other object types
// are refused as not modelled, as before.
import { QmpError } from '../errors/index.js';
import { QmpErrorAfterAbort } from '../graph/abort-residue.js';
import { QemuAbortRefusal } from '../graph/qemu-abort.js';
import type { Proc } from '../graph/proc.js';
import type { QomObject } from '../graph/types.js';
import { checkLimitsSet, limitsOf, LIMIT_NAMES } from './throttle-group.js';
import type { CommandDef } from './types.js';
import { PERIPHERAL, bbRoot, buses, device, devices, putDevice } from '../graph/devices/ops.js';
import { CONTROLLER_KINDS, DEVICE_KINDS, kindOf, type Device } from '../graph/devices/types.js';
import { QOM_CLASSES } from '../graph/devices/qom-classes.js';
import { versionOf } from '../graph/version.js';
import { DEVICE_PROPS } from '../graph/devices/props.js';
import { attachChild, detachChild } from '../graph/ops.js';
import { cpuQom } from './vm/machine-level.js';

/**
 * A guest device of the vm target by its QOM path: /machine/peripheral/ID, or a virtio-blk-pci's
 * inner /machine/peripheral/ID/virtio-backend (object_resolve_path; a removed device is gone from
 * the tree: DeviceNotFound). undefined: not such a path (the objects below).
 */
function resolveDevice(p: Proc, path: string): { d: Device; inner: boolean } | undefined {
  if (p.meta().target !== 'vm') return undefined;
  // a bare name is a partial path (object_resolve_partial_path): the composition tree's one child
  // of that name, here /machine/peripheral/ID; one that is also an -object's (/objects/ID) is
  // ambiguous, which resolves nothing (fuzz-vm-qom-partial-path-device)
  if (!path.includes('/')) {
    const d = device(p, path);
    if (!d) return undefined;
    if (p.object(path)) throw new QmpError(`Device '${path}' not found`, 'DeviceNotFound');
    return { d, inner: false };
  }
  const m = new RegExp(`^${PERIPHERAL}/([^/]+)(/virtio-backend)?$`).exec(path);
  if (!m) return undefined;
  const d = device(p, m[1]!);
  if (!d || (m[2] && !DEVICE_KINDS[d.driver]?.backend)) throw new QmpError(`Device '${path}' not found`, 'DeviceNotFound');
  return { d, inner: m[2] !== undefined };
}

/** Every QOM object's and device's own properties (object_class_init, device_class_init). */
const QOM_BUILTIN = ['type', 'realized', 'hotplugged', 'hotpluggable', 'parent_bus'];

/**
 * object_property_find_err on a device: its qdev properties (graph/devices/props.ts; a
 * virtio-blk-pci aliases every property of its virtio-blk-device, qdev_alias_all_properties) and
 * the built-in ones. `owner`: the object the setter runs on, for its error texts (an alias sets
 * the inner virtio-blk-device, which has no id).
 */
function deviceProperty(d: Device, inner: boolean, name: string): { owner: { id: string | null; type: string } } {
  const kind = kindOf(d.driver)!;
  const type = inner ? kind.driveOwner! : d.driver;
  const own = DEVICE_PROPS[d.driver] ?? {};
  const known = QOM_BUILTIN.includes(name) || (name in own && !(inner && name === 'addr'));
  if (!known) throw new QmpError(`Property '${type}.${name}' not found`);
  const viaAlias = kind.backend && name !== 'addr' && !QOM_BUILTIN.includes(name);
  const anon = !d.path.startsWith(`${PERIPHERAL}/`);
  return { owner: inner || viaAlias ? { id: null, type: kind.driveOwner! } : { id: anon ? null : d.id, type: d.driver } };
}

/**
 * qom-get of a device property: what the model keeps of it (the value device_add gave, the
 * drive's node, share-rw, bootindex, the iothread link); a default it never read is answered null
 * (the answer's value is not modelled beyond these; its outcome is).
 */
function deviceGet(p: Proc, d: Device, inner: boolean, name: string): unknown {
  deviceProperty(d, inner, name);
  if (name === 'type') return inner ? kindOf(d.driver)!.driveOwner : d.driver;
  if (name === 'realized') return true;
  if (name === 'hotplugged') return !d.cold;
  if (name === 'hotpluggable') return true;
  if (name === 'parent_bus') return `/machine/${d.bus}`;
  // get_drive: blk_name, else the root node's name
  if (name === 'drive') return d.bb ? bbRoot(p, d.bb) ?? '' : '';
  if (name === 'share-rw') return d.shareRw;
  if (name === 'bootindex') return d.bootindex ?? (d.props?.bootindex as number | undefined) ?? -1;
  if (name === 'iothread') return d.iothread ? `/objects/${d.iothread}` : '';
  return d.props?.[name] ?? null;
}

/**
 * qom-set of a device property once realized (qmp_qom_set → object_property_set with a QObject
 * input visitor, on both versions): a qdev field property refuses (field_prop_set →
 * qdev_prop_set_after_realize), a link property too (qdev_prop_allow_set_link_before_realize);
 * bootindex is settable (device_set_bootindex: visit_type_int32, check_boot_index against every
 * entry, its own included, then add_boot_device_path replaces its entry); drive changes the
 * BlockBackend's node (set_drive_helper's realized branch: bdrv_lookup_bs, blk_replace_bs).
 */
function deviceSet(p: Proc, d: Device, inner: boolean, name: string, value: unknown): void {
  const { owner } = deviceProperty(d, inner, name);
  if (name === 'bootindex') {
    if (typeof value !== 'number' || !Number.isInteger(value)) throw new QmpError("Invalid parameter type for 'bootindex', expected: integer");
    if (value < -(2 ** 31) || value >= 2 ** 31) throw new QmpError("Parameter 'bootindex' expects int32_t");
    if (value >= 0 && devices(p).some((o) => o.bootindex === value)) {
      throw new QmpError(`The bootindex ${value} has already been used`);
    }
    const { bootindex: _old, ...rest } = d;
    putDevice(p, value >= 0 ? { ...rest, bootindex: value } : rest);
    return;
  }
  if (name === 'iothread') {
    throw new QmpError(`Attempt to set link property '${name}' on device '${owner.id ?? '(null)'}' (type '${owner.type}') after it was realized`);
  }
  if (name === 'drive') {
    if (typeof value !== 'string') throw new QmpError("Invalid parameter type for 'drive', expected: string");
    const old = d.bb ? p.children({ kind: 'bb', bb: d.bb })[0] : undefined;
    // set_drive_helper's realized branch looks the node up first (bdrv_lookup_bs), then
    // blk_replace_bs: on an empty drive's BlockBackend (no root child) bdrv_replace_child_bs
    // dereferences NULL, QEMU 7.2 and 10.0 die (SIGSEGV, vm-h-qom-list-block-devices'
    // nearest form). A node in another AioContext (set_drive_helper sets an error and still calls
    // blk_replace_bs) is not modelled.
    const n = p.node(value);
    if (!n) throw new QmpError(`Cannot find device='' nor node-name='${value}'`);
    if (!d.bb || !old) {
      throw new QemuAbortRefusal(`qom-set of drive '${value}' on the empty drive of '${d.id}': QEMU dies here ` +
        "(set_drive_helper → blk_replace_bs → bdrv_replace_child_bs on a BlockBackend without a root child: SIGSEGV); refused by blockgraph", 'bdrv_replace_child_bs');
    }
    const bb = p.bb(d.bb)!;
    if (n.aio !== bb.aio) throw notModelled('qom-set of a drive in another AioContext');
    if (old.child === value) return;
    p.step(`device ${d.id}: blk_replace_bs`);
    attachChild(p, { kind: 'bb', bb: d.bb }, value, 'root', 0, { perm: bb.perm, shared: bb.shared });
    detachChild(p, old.id);
    return;
  }
  if (QOM_BUILTIN.includes(name)) throw notModelled('qom-set');
  const who = owner.id === null ? 'anonymous device' : `device '${owner.id}'`;
  throw new QmpError(`Attempt to set property '${name}' on ${who} (type '${owner.type}') after it was realized`);
}

const notModelled = (name: string) => new QmpError(`blockgraph: ${name} is not modelled (qemu-storage-daemon 7.2 has it; see docs/qmp.md)`);

const setsOf = (o: QomObject): Record<string, unknown>[] => o.limitSets ?? [];
const addProps = (o: QomObject): Record<string, unknown> => o.props;

/** object_resolve_path for the objects the model keeps; undefined: not found among them. */
function resolve(p: Proc, path: string, cmd: string): QomObject | undefined {
  const id = path.startsWith('/objects/') ? path.slice('/objects/'.length) : path.includes('/') ? null : path;
  if (id === null || id === '') throw notModelled(cmd);
  const o = p.object(id);
  if (!o) {
    // the daemon's other QOM children (containers, chardevs) resolve too: not modelled
    if (['objects', 'chardevs', 'machine'].includes(id)) throw notModelled(cmd);
    throw new QmpError(`Device '${path}' not found`, 'DeviceNotFound');
  }
  if (o.qomType !== 'throttle-group' && o.qomType !== 'iothread') throw notModelled(cmd);
  return o;
}

/**
 * An iothread's int64 properties (iothread.c iothread_class_init: poll-max-ns, poll-grow,
 * poll-shrink; event-loop-base.c event_loop_base_class_init: aio-max-batch, thread-pool-min,
 * thread-pool-max) with their instance_init defaults (IOTHREAD_POLL_MAX_NS_DEFAULT on Linux,
 * THREAD_POOL_MAX_THREADS_DEFAULT); the same on 7.2 and 10.0.
 */
const IOTHREAD_DEFAULTS: Record<string, number> = {
  'poll-max-ns': 32768, 'poll-grow': 0, 'poll-shrink': 0, 'aio-max-batch': 0, 'thread-pool-min': 0, 'thread-pool-max': 64,
};
const INT64_MAX = 9223372036854775807n;

/** object_property_find_err on an iothread: its int64 properties and 'type'. */
function iothreadProperty(name: string): void {
  if (name !== 'type' && !(name in IOTHREAD_DEFAULTS)) throw new QmpError(`Property 'iothread.${name}' not found`);
}

function iothreadGet(o: QomObject, name: string): unknown {
  iothreadProperty(name);
  if (name === 'type') return 'iothread';
  const v = o.props[name];
  return typeof v === 'number' ? v : IOTHREAD_DEFAULTS[name];
}

/**
 * qom-set of an iothread property (object_property_set): 'type' has no setter ("is not
 * writable"); visit_type_int64 refuses anything but an int64; iothread_set_param and
 * event_loop_base_set_param refuse a negative value before storing it; once stored, an
 * event-loop-base property runs update_params (iothread_set_aio_context_params ->
 * aio_context_set_thread_pool_params), whose "bad thread-pool-min/thread-pool-max values" leaves
 * the new value stored all the same; the poll properties' aio_context_set_poll_params never fails.
 */
function iothreadSet(p: Proc, o: QomObject, name: string, value: unknown): void {
  iothreadProperty(name);
  if (name === 'type') throw new QmpError("Property 'iothread.type' is not writable");
  if (typeof value !== 'number' || !Number.isInteger(value) || BigInt(value) > INT64_MAX) throw new QmpError(`Invalid parameter type for '${name}', expected: integer`);
  if (value < 0) throw new QmpError(`${name} value must be in range [0, ${INT64_MAX}]`);
  const props = { ...o.props, [name]: value };
  p.putObject({ ...o, props });
  if (!name.startsWith('poll-')) {
    const min = iothreadGet({ ...o, props }, 'thread-pool-min') as number;
    const max = iothreadGet({ ...o, props }, 'thread-pool-max') as number;
    const INT_MAX = 2147483647;
    // the refusal keeps the stored value (the residue puts it back on the state before the command)
    if (min > max || !max || min > INT_MAX || max > INT_MAX) {
      throw new QmpErrorAfterAbort('bad thread-pool-min/thread-pool-max values', 'GenericError', (q) => { const x = q.object(o.id); if (x) q.putObject({ ...x, props: { ...x.props, [name]: value } }); });
    }
  }
}

/** object_property_find_err over a throttle-group's properties: 'limits', the x- ones, 'type'. */
function findProperty(name: string): 'limits' | 'x' | 'type' {
  if (name === 'limits') return 'limits';
  if (name === 'type') return 'type';
  if (name.startsWith('x-') && LIMIT_NAMES.includes(name.slice(2))) return 'x';
  throw new QmpError(`Property 'throttle-group.${name}' not found`);
}

export const qomGet: CommandDef = {
  name: 'qom-get',
  mutates: false,
  run({ p, args }) {
    const cpu = cpuQom(p, 'qom-get', String(args.path), String(args.property));
    if (cpu.hit) return cpu.value as never;
    const dev = resolveDevice(p, String(args.path));
    if (dev) return deviceGet(p, dev.d, dev.inner, String(args.property)) as never;
    const o = resolve(p, String(args.path), 'qom-get');
    if (!o) return {};
    if (o.qomType === 'iothread') return iothreadGet(o, String(args.property)) as never;
    const kind = findProperty(String(args.property));
    if (kind === 'type') return 'throttle-group';
    const limits = limitsOf(addProps(o), setsOf(o), o.config);
    return kind === 'limits' ? limits : limits[String(args.property).slice(2)] ?? 0;
  },
};

export const qomSet: CommandDef = {
  name: 'qom-set',
  mutates: true,
  run({ p, args }) {
    const dev = resolveDevice(p, String(args.path));
    if (dev) { deviceSet(p, dev.d, dev.inner, String(args.property), args.value); return {}; }
    const o = resolve(p, String(args.path), 'qom-set');
    if (!o) return {};
    if (o.qomType === 'iothread') { iothreadSet(p, o, String(args.property), args.value); return {}; }
    const kind = findProperty(String(args.property));
    if (kind === 'x') throw new QmpError('Property cannot be set after initialization');
    // object_property_set: 'type' has no setter
    if (kind === 'type') throw new QmpError("Property 'throttle-group.type' is not writable");
    const v = args.value;
    // visit_type_ThrottleLimits: only well-formed structs of integers are modelled
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw notModelled('qom-set');
    const lim = v as Record<string, unknown>;
    if (Object.entries(lim).some(([k, x]) => !LIMIT_NAMES.includes(k) || typeof x !== 'number' || !Number.isInteger(x))) throw notModelled('qom-set');
    checkLimitsSet(addProps(o), setsOf(o), lim, o.config);
    p.putObject({ ...o, limitSets: [...setsOf(o), lim] });
    return {};
  },
};

/**
 * object_resolve_path for qom-list on the vm target: a device by its QOM path (a named one's
 * /machine/peripheral/ID, an id-less one's /machine/peripheral-anon/device[N], a usb-storage's
 * legacy scsi-disk), by a bare name (a partial path: ambiguous with an -object of that name, which
 * resolves nothing), a virtio proxy's inner virtio-backend, or a controller's child bus
 * (…/ID/virtio-backend/ID.0, …/ID/ID.0, …/device[N]/virtio-backend/scsi.N). The class whose
 * properties the object has; undefined: not such a path.
 */
function qomListClass(p: Proc, path: string): string | undefined {
  let base = path;
  const inner = path.endsWith('/virtio-backend');
  if (inner) base = path.slice(0, -'/virtio-backend'.length);
  let d = !base.includes('/') ? device(p, base) : base.startsWith(`${PERIPHERAL}/`) ? device(p, base.slice(PERIPHERAL.length + 1)) : undefined;
  if (d && d.path !== base && base.includes('/')) d = undefined;
  d ??= devices(p).find((x) => x.path === base);
  if (d) {
    if (!base.includes('/') && p.object(base)) return undefined;
    const innerType = DEVICE_KINDS[d.driver]?.backend ? DEVICE_KINDS[d.driver]!.driveOwner : CONTROLLER_KINDS[d.driver]?.backend ? 'virtio-scsi-device' : undefined;
    if (inner) return innerType ?? undefined;
    return d.driver;
  }
  for (const b of buses(p)) {
    const o = b.owner ? device(p, b.owner) : undefined;
    if (!o) continue;
    if (`${o.path}${CONTROLLER_KINDS[o.driver]?.backend ? '/virtio-backend' : ''}/${b.id}` === path) return b.type;
  }
  return undefined;
}

/**
 * qom-list (qmp_qom_list: object_resolve_path, then every property as {name, type}) on the vm
 * target: the /machine/peripheral and /machine/peripheral-anon containers (a child<TYPE> per
 * device), a device, its virtio-backend or a controller's bus: the properties of its class as
 * QEMU lists them for a new instance (graph/devices/qom-classes.ts; the children realize adds,
 * a bus's child[N] links, are not listed); nothing there is DeviceNotFound. The vCPU's path from
 * the machine's facts (commands/vm/machine-level.ts cpuQom). qemu-storage-daemon's tree and the
 * rest of the machine's are not modelled.
 */
export const qomList: CommandDef = {
  name: 'qom-list',
  mutates: false,
  run({ p, args }) {
    const cpu = cpuQom(p, 'qom-list', String(args.path));
    if (cpu.hit) return cpu.value as never;
    const path = String(args.path);
    if (p.meta().target !== 'vm') throw notModelled('qom-list');
    if (path === PERIPHERAL || path === `${PERIPHERAL}-anon`) {
      const out = [{ name: 'type', type: 'string' }];
      for (const d of devices(p)) {
        const m = d.path.startsWith(`${path}/`) ? d.path.slice(path.length + 1) : undefined;
        if (m !== undefined && !m.includes('/')) out.push({ name: m, type: `child<${d.driver}>` });
      }
      return out as never;
    }
    const cls = qomListClass(p, path);
    if (cls !== undefined) {
      const list = QOM_CLASSES[versionOf(p)].props[cls]?.qom;
      if (!list) throw notModelled(`qom-list of a ${cls}`);
      return list.map((x) => ({ name: x.name, type: x.type })) as never;
    }
    if (path.startsWith(`${PERIPHERAL}/`) || path.startsWith(`${PERIPHERAL}-anon/`)) {
      throw new QmpError(`Device '${path}' not found`, 'DeviceNotFound');
    }
    throw notModelled('qom-list');
  },
};
