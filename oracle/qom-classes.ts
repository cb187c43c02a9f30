// What qemu-system-x86_64 knows of its QOM classes, for graph/devices/qom-classes.ts (written by
// scripts/record-qom-classes.ts, checked against 7.2 by specs/oracle/vm-live.spec.ts): every type
// name with its abstract and device flags (qom-list-types, which loads every module first:
// module_load_qom_all), and qom-list-properties' and device-list-properties' answers for the block
// device classes, their controllers, parents and child buses, the containers and the -objects the
// model keeps, on a q35 started as the vm recorder starts it (paused, -nodefaults).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnVm } from './qemu-vm.js';
import { requireQemuVm } from './qemu-bins.js';
import { CONTROLLER_KINDS, DEVICE_KINDS } from '../graph/devices/types.js';
import type { QomClasses } from '../graph/devices/qom-classes.js';
import type { QemuVersion } from '../graph/version.js';

/** The classes whose answers are recorded besides the model's device kinds and controllers. */
const EXTRA = ['SCSI', 'usb-bus', 'container', 'virtio-blk-device', 'virtio-scsi-device', 'ide-device', 'scsi-device', 'usb-device', 'pci-device', 'device', 'pcie-root-port', 'nvme-subsys', 'nvme-ns', 'usb-hub', 'iothread', 'throttle-group', 'object'];

export async function recordQomClasses(version: QemuVersion): Promise<QomClasses> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-qom-classes-'));
  const vm = await spawnVm(dir, { version: 1 }, { bins: requireQemuVm(version), label: 'classes' });
  try {
    const ok = async (cmd: string, args: Record<string, unknown>): Promise<unknown> => {
      const r = await vm.execute(cmd, args);
      if ('error' in r) throw new Error(`${cmd} ${JSON.stringify(args)}: ${r.error.desc}`);
      return r.return;
    };
    const all = await ok('qom-list-types', { abstract: true }) as { name: string; abstract?: boolean }[];
    const dev = new Set((await ok('qom-list-types', { implements: 'device', abstract: true }) as { name: string }[]).map((t) => t.name));
    const types: QomClasses['types'] = {};
    for (const t of [...all].sort((a, b) => (a.name < b.name ? -1 : 1))) types[t.name] = [t.abstract ? 1 : 0, dev.has(t.name) ? 1 : 0];
    const want = [...new Set([...Object.keys(DEVICE_KINDS), ...Object.keys(CONTROLLER_KINDS), ...EXTRA])].filter((n) => n in types).sort();
    const props: QomClasses['props'] = {};
    for (const n of want) {
      const [abstract, isDev] = types[n]!;
      props[n] = { qom: await ok('qom-list-properties', { typename: n }) as QomClasses['props'][string]['qom'] };
      if (isDev && !abstract) props[n]!.device = await ok('device-list-properties', { typename: n }) as QomClasses['props'][string]['qom'];
    }
    return { types, props };
  } finally {
    await vm.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
