// device-list-properties and qom-list-properties of the vm target (qom/qom-qmp-cmds.c): the type
// name is looked up among QEMU's classes (module_object_class_by_name; the table of
// graph/devices/qom-classes.ts, recorded from qemu-system-x86_64 with every module loaded), then
// refused as QEMU refuses it, then answered with the class's recorded property list. A class the
// table holds no list for (QEMU has some 800; it keeps the block device classes, their
// controllers and parents) is refused as not modelled, never answered with a made-up list.
import { QmpError } from '../../errors/index.js';
import type { Proc } from '../../graph/proc.js';
import { versionOf } from '../../graph/version.js';
import { QOM_CLASSES, type QomPropertyInfo } from '../../graph/devices/qom-classes.js';
import type { CommandDef } from '../types.js';
import { checkArgs } from './qapi.js';

const notModelled = (cmd: string, t: string) =>
  new QmpError(`blockgraph: ${cmd} of '${t}' is not modelled (its property list is recorded for the block device classes only)`);

function lookup(p: Proc, args: Record<string, unknown>): { name: string; abstract: boolean; device: boolean } | undefined {
  checkArgs(args, [['typename', true, 'str']]);
  const name = String(args.typename);
  const t = QOM_CLASSES[versionOf(p)].types[name];
  return t ? { name, abstract: t[0] === 1, device: t[1] === 1 } : undefined;
}

/**
 * qmp_device_list_properties: an unknown name is DeviceNotFound; a class that is not a device or
 * is abstract is refused; otherwise object_new and every property but type, realized,
 * hotpluggable, hotplugged, parent_bus and legacy-* (the recorded answer).
 */
export const deviceListProperties: CommandDef = {
  name: 'device-list-properties',
  mutates: false,
  run({ p, args }) {
    const t = lookup(p, args);
    if (!t) throw new QmpError(`Device '${String(args.typename)}' not found`, 'DeviceNotFound');
    if (!t.device || t.abstract) throw new QmpError("Parameter 'typename' expects a non-abstract device type");
    const list: QomPropertyInfo[] | undefined = QOM_CLASSES[versionOf(p)].props[t.name]?.device;
    if (!list) throw notModelled('device-list-properties', t.name);
    return list as never;
  },
};

/**
 * qmp_qom_list_properties: an unknown name is DeviceNotFound ("Class … not found"); an abstract
 * class lists its class properties (object_class_property_iter_init), another a new instance's.
 * On qemu-storage-daemon (its own, smaller set of classes) it stays not modelled.
 */
export const qomListProperties: CommandDef = {
  name: 'qom-list-properties',
  mutates: false,
  run({ p, args }) {
    if (p.meta().target !== 'vm') throw new QmpError('blockgraph: qom-list-properties is not modelled (qemu-storage-daemon 7.2 has it; see docs/qmp.md)');
    const t = lookup(p, args);
    if (!t) throw new QmpError(`Class '${String(args.typename)}' not found`, 'DeviceNotFound');
    const list = QOM_CLASSES[versionOf(p)].props[t.name]?.qom;
    if (!list) throw notModelled('qom-list-properties', t.name);
    return list as never;
  },
};
