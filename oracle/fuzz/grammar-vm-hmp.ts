// Stop 42: HMP commands on the vm target. Until now a vm case sent HMP's `info` printers only
// (grammar-vm.ts hmpInfo): no legacy drive (hmp_drive_add without -n: a *named* BlockBackend,
// blockdev.c drive_new) was ever opened, so nothing the model does for named BlockBackends
// (commands/vm/drive-add.ts, graph/named-blk.ts) met the fuzzer, nor did the block-hmp-cmds.c
// commands that take a BlockBackend's name: block_resize, block_stream, block_job_*, commit,
// snapshot_blkdev_internal / snapshot_delete_blkdev_internal, drive_del, qemu-io, eject and change.
// The lines are drawn over the case's drives and devices; each one's QMP equivalent
// (hmp-equivalent.ts) goes through the same crash guards as the QMP productions.
import type { JsonObject, Step } from '../format.js';
import type { Production } from './production.js';
import type { ProcView } from './world.js';
import type { VmGenerator } from './grammar-vm.js';

const hmp = (line: string): Step => ({ execute: 'human-monitor-command', arguments: { 'command-line': line } });

/** The drives of the case still in the graph (their BlockBackend is the parent `dev:NAME`). */
export function liveDrives(g: VmGenerator, p: ProcView): string[] {
  const parents = new Set(p.graph.parents.map((x) => x.name));
  return [...g.drives].filter((d) => parents.has(`dev:${d}`));
}

/**
 * A drive's name, now and then one that is not there (the commands' refusals); undefined while
 * the case has no drive (the production is not drawn then, mostly).
 */
function driveRef(g: VmGenerator, p: ProcView): string | undefined {
  const ds = liveDrives(g, p);
  if (!ds.length) return g.rng.chance(0.03) ? 'nosuch' : undefined;
  return g.rng.chance(0.95) ? g.rng.pick(ds) : 'nosuch';
}

/**
 * hmp_drive_add: `drive_add 0 if=none,id=…,file=…,format=…` as libvirt's old hotplug sent it
 * (the pci_addr word is ignored for if=none), with the options blockdev_init and
 * drive_new read most: readonly, node-name, cache, media=cdrom without a file.
 */
const driveAdd: Production = (g, p) => {
  const v = g as VmGenerator;
  const r = g.rng;
  const id = v.freshDrive();
  if (r.chance(0.1)) return hmp(`drive_add 0 if=none,id=${id},media=cdrom`);
  const [file, fmt] = r.pick<[string, string]>([['a.qcow2', 'qcow2'], ['t1.qcow2', 'qcow2'], ['t2.qcow2', 'qcow2'], ['top.qcow2', 'qcow2'], ['r.raw', 'raw']]);
  const opts = [`if=none`, `id=${id}`, `file=${file}`];
  if (r.chance(0.9)) opts.push(`format=${fmt}`);
  if (r.chance(0.25)) opts.push('readonly=on');
  if (r.chance(0.3)) opts.push(`node-name=${g.fresh('n', p)}`);
  if (r.chance(0.15)) opts.push(`cache=${r.pick(['none', 'writethrough', 'unsafe', 'directsync'])}`);
  if (r.chance(0.05)) opts.push(r.pick(['werror=bogus', 'media=tape', 'format=nosuchfmt', 'detect-zeroes=on']));
  return hmp(`drive_add 0 ${opts.join(',')}`);
};

/** device_add of a disk on a drive (QMP: `drive` names the BlockBackend). */
const deviceOnDrive: Production = (g, p) => {
  const v = g as VmGenerator;
  const r = g.rng;
  const drive = driveRef(v, p);
  if (drive === undefined) return undefined;
  const driver = r.pick(['scsi-hd', 'scsi-hd', 'scsi-cd', 'virtio-blk-pci']);
  const o: JsonObject = { driver, id: v.freshDevice(driver === 'scsi-cd' ? 'cd' : driver === 'scsi-hd' ? 'sd' : 'vd'), drive };
  o.bus = driver === 'virtio-blk-pci' ? r.pick(v.machine === 'pc' ? ['pci.0'] : ['rp0', 'rp1', 'rp2', 'rp3']) : 'scsi0.0';
  if (r.chance(0.2)) o['share-rw'] = true;
  return { execute: 'device_add', arguments: o };
};

/** The BlockBackend-name commands of block-hmp-cmds.c over a drive (or a device's id where QEMU takes one). */
const driveCommand: Production = (g, p) => {
  const v = g as VmGenerator;
  const r = g.rng;
  const d = driveRef(v, p);
  if (d === undefined) return undefined;
  const k = r.next();
  if (k < 0.14) return hmp(`block_resize ${d} ${r.pick(['16M', '32M', '1M', '16M'])}`);
  // a speed of one byte a second: the stream copies its first chunk and sleeps (no race with the
  // graph query; an HMP stream is auto-finalized and auto-dismissed)
  if (k < 0.24) return hmp(`block_stream ${d} 1b`);
  if (k < 0.34) return hmp(`commit ${r.chance(0.85) ? d : 'all'}`);
  if (k < 0.48) {
    const name = r.chance(0.5) && p.internalSnapshots.length ? r.pick(p.internalSnapshots) : g.fresh('snap', p);
    return hmp(`snapshot_blkdev_internal ${d} ${name}`);
  }
  if (k < 0.56) return hmp(`snapshot_delete_blkdev_internal ${d} ${p.internalSnapshots.length ? r.pick(p.internalSnapshots) : 'snap0'}`);
  if (k < 0.7) return hmp(`drive_del ${r.chance(0.85) ? d : g.ref(p)}`);
  if (k < 0.85) {
    // hmp_qemu_io: a drive by its name, a device by -d; small reads and writes
    const devs = [...v.devices.keys()];
    const target = devs.length && r.chance(0.3) ? `-d ${r.pick(devs)}` : d;
    // (quiet: without -q qemu-io prints its timing, host time)
    return hmp(`qemu-io ${target} "${r.pick(['read -q 0 4k', 'write -q 0 4k', 'write -q -P 0x5a 65536 512', 'read -q 1048576 64k'])}"`);
  }
  if (k < 0.92) return hmp(`eject ${r.chance(0.5) ? '-f ' : ''}${d}`);
  // hmp_change → blockdev-change-medium by the drive's name
  return hmp(`change ${d} ${r.pick(['a.qcow2 qcow2', 't1.qcow2 qcow2', 'r.raw raw'])}`);
};

/** HMP's job verbs (hmp_block_job_*): the job is named by its id (an HMP stream's is the drive's name). */
const hmpJobVerb: Production = (g, p) => {
  const r = g.rng;
  const jobs = [...p.jobs.keys()];
  if (!jobs.length && !r.chance(0.05)) return undefined;
  const id = jobs.length && r.chance(0.95) ? r.pick(jobs) : 'nosuch';
  const verb = r.pick(['block_job_pause', 'block_job_resume', 'block_job_cancel', 'block_job_cancel -f', 'block_job_complete', 'block_job_set_speed']);
  // never 0 (unlimited): the job would run on in real time, racing the graph query (the QMP
  // grammar queues a wait after it; an HMP stream is auto-finalized and has none to wait for)
  if (verb === 'block_job_set_speed') return hmp(`${verb} ${id} ${r.pick(['1b', '4k'])}`);
  return hmp(`${verb} ${id}`);
};

export const VM_HMP_PRODUCTIONS: [Production, number][] = [[driveAdd, 5], [deviceOnDrive, 3], [driveCommand, 20], [hmpJobVerb, 3]];
