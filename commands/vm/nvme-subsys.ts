// What an nvme subsystem keeps (hw/nvme/subsys.c, hw/nvme/ns.c): the controllers' serial and the
// namespace ids.
//
// An nvme-ns's namespace id (hw/nvme/ns.c nvme_ns_realize, after nvme_ns_setup): the given nsid
// must be free, else the first free one from 1 is taken and written back to the property
// (ns->params.nsid = i). Which ids are taken: 7.2 checks the controller's attached namespaces
// (nvme_ns(n, i): its legacy `drive` namespace, nsid 1 — nvme_realize sets ns->params.nsid = 1 —,
// and the namespaces realized on its bus) and its subsystem's (nvme_subsys_ns(subsys, i): every
// namespace realized there, shared or not, subsys->namespaces[nsid] = ns before the attach);
// 10.0 only the subsystem's, but every controller has one there (nvme_init_subsys creates an
// implicit nvme-subsys for a controller without `subsys`, and nvme_realize registers the legacy
// namespace in it), so both come to the same set.
import { QmpError } from '../../errors/index.js';
import { device, devices, putDevice } from '../../graph/devices/ops.js';
import type { Device } from '../../graph/devices/types.js';
import type { Proc } from '../../graph/proc.js';

/** hw/nvme/nvme.h NVME_MAX_NAMESPACES */
export const NVME_MAX_NAMESPACES = 256;

/**
 * nvme_ns_check_constraints: "invalid namespace id (must be between 0 and 256)" for an nsid
 * beyond NVME_MAX_NAMESPACES (before nvme_ns_init_blk takes the drive's permissions).
 */
export function checkNsidRange(props: Record<string, unknown>): void {
  const nsid = typeof props.nsid === 'number' ? props.nsid : 0;
  if (nsid > NVME_MAX_NAMESPACES) throw new QmpError(`invalid namespace id (must be between 0 and ${NVME_MAX_NAMESPACES})`);
}

/** The namespace ids in use for a namespace of controller `ctrl` (its subsystem's when linked). */
function takenNsids(p: Proc, ctrl: string, self: string): Set<number> {
  const subsys = device(p, ctrl)?.props?.subsys;
  const bus = typeof subsys === 'string' ? subsys : ctrl;
  const taken = new Set<number>();
  if (typeof subsys !== 'string' && device(p, ctrl)?.bb) taken.add(1);
  for (const d of devices(p)) {
    if (d.id === self || d.driver !== 'nvme-ns' || d.bus !== bus || typeof d.props?.nsid !== 'number') continue;
    taken.add(d.props.nsid);
  }
  return taken;
}

/** nvme_ns_realize's allocation for namespace `d` of controller `ctrl`: refuses a taken nsid, fills an unset one. */
export function allocateNsid(p: Proc, d: Device, ctrl: string): void {
  const taken = takenNsids(p, ctrl, d.id);
  let nsid = typeof d.props?.nsid === 'number' ? d.props.nsid : 0;
  if (nsid) {
    if (taken.has(nsid)) throw new QmpError(`namespace id '${nsid}' already allocated`);
  } else {
    for (let i = 1; i <= NVME_MAX_NAMESPACES && !nsid; i++) if (!taken.has(i)) nsid = i;
    if (!nsid) throw new QmpError('no free namespace id');
  }
  d.props = { ...(d.props ?? {}), nsid };
}

/**
 * nvme_subsys_register_ctrl (nvme_realize → nvme_init_subsys, after qbus_init): the first controller
 * registered gives the subsystem its serial (subsys->serial, never reset: nvme_exit only
 * unregisters the controller), and every later one must have the same, else "invalid controller
 * serial". 10.0's implicit subsystem of a controller without `subsys` is its own: nothing to check.
 */
export function registerCtrl(p: Proc, props: Record<string, unknown>): void {
  if (typeof props.subsys !== 'string') return;
  const subsys = device(p, props.subsys);
  if (!subsys) return;
  const serial = String(props.serial);
  if (subsys.nvmeSerial === undefined) putDevice(p, { ...subsys, nvmeSerial: serial });
  else if (subsys.nvmeSerial !== serial) throw new QmpError('invalid controller serial');
}
