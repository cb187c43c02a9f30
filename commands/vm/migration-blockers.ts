// migration_is_blocked's first check (migration/migration.c of 7.2 and 10.0, called from
// migrate_prepare after the inmigrate/postmigrate checks): qemu_savevm_state_blocked walks
// savevm_state.handlers and refuses at the first vmstate marked `unmigratable`, naming its idstr.
// Of the devices the model keeps, only nvme's is (hw/nvme/ctrl.c vmstate_nvme: .unmigratable = 1;
// usb-uas's too, not modelled here: its idstr is a USB port path). vmstate_register_with_alias_id
// names a device's entry qdev_get_dev_path(dev) + "/" + vmsd->name: for a PCI device
// pcibus_get_dev_path, "0000:00:SS.F" on the root bus and ":SS.F" more per bridge below it.
import { QmpError } from '../../errors/index.js';
import { devices } from '../../graph/devices/ops.js';
import type { Device } from '../../graph/devices/types.js';
import type { Proc } from '../../graph/proc.js';

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
const slotFn = (devfn: number): string => `${hex2(devfn >> 3)}.${(devfn & 7).toString(16)}`;

/** pcibus_get_dev_path of a device on the root bus or on a pcie-root-port's secondary bus. */
function pciDevPath(p: Proc, d: Device): string {
  if (d.devfn !== undefined) return `0000:00:${slotFn(d.devfn)}`;
  const port = devices(p).find((x) => x.id === d.bus && x.driver === 'pcie-root-port');
  // a root port's only slot: the first device plugged there is 00.0 (pci-hotplug-function-0)
  const first = devices(p).find((x) => x.bus === d.bus);
  if (!port || port.devfn === undefined || first?.id !== d.id) {
    throw new QmpError(`blockgraph: the migration state path of ${d.driver} '${d.id}' is not modelled`);
  }
  return `0000:00:${slotFn(port.devfn)}:00.0`;
}

/** qemu_savevm_state_blocked: "State blocked by non-migratable device '<idstr>'" (handlers in registration order). */
export function refuseUnmigratable(p: Proc): void {
  const d = devices(p).find((x) => x.driver === 'nvme');
  if (d) throw new QmpError(`State blocked by non-migratable device '${pciDevPath(p, d)}/nvme'`);
}
