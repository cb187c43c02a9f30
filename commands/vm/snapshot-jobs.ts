// snapshot-save / snapshot-load / snapshot-delete (migration/savevm.c qmp_snapshot_*, QEMU 6.0+) and
// HMP's savevm / loadvm / delvm (monitor/hmp-cmds.c), over the block layer's group operations
// (block/snapshot.c bdrv_all_*). A VM has them, qemu-storage-daemon has no migration schema.
//
// Each QMP command is a plain Job (job_create with JOB_MANUAL_DISMISS: auto-finalize, manual
// dismiss; no BLOCK_JOB_* events) whose .run schedules one main-loop BH (snapshot_*_job_bh) doing
// the whole save_snapshot / load_snapshot / delete_snapshot: the job is created and running when
// the command returns and ends in that BH, concluded after waiting/pending or after aborting with
// the error in query-jobs. The model runs it to its end inside the command, as blockdev-create's
// (the recorder settles the step the same way: oracle/harness.ts SETTLE_START). What is kept of a
// snapshot is the table entry (graph/internal-snapshot.ts) and whether it holds a VM state; the
// VM state's bytes, the disks' contents after a load, dates and clocks are not modelled.
import { QmpError } from '../../errors/index.js';
import { drainAll } from '../../graph/drain.js';
import { bdrvNextOrder } from '../../graph/inactive.js';
import { canSnapshot, createSnapshot, deleteSnapshot, findSnapshot } from '../../graph/internal-snapshot.js';
import { createJob, sendJob, type JobCtx } from '../../graph/jobs/runner.js';
import type { Proc } from '../../graph/proc.js';
import type { CommandDef } from '../types.js';
import { checkArgs } from './qapi.js';
import { runHmpLine } from './hmp.js';

type Emit = JobCtx['emit'];

/** bdrv_has_blk: a BlockBackend among the node's parents. */
const hasBlk = (p: Proc, bs: string) => p.parents(bs).some((e) => e.parent.kind === 'bb');

/** bdrv_all_snapshots_includes_bs: inserted, writable, and in use by a BlockBackend or owned by the monitor alone. */
function includesBs(p: Proc, bs: string): boolean {
  const n = p.node(bs);
  if (!n || n.ro) return false;
  return hasBlk(p, bs) || p.parents(bs).length === 0;
}

/** bdrv_all_get_snapshot_devices: the named nodes (bdrv_find_node: node names only), or every bdrv_first/bdrv_next node. */
function snapshotDevices(p: Proc, devices: string[] | undefined): string[] {
  if (devices === undefined) return bdrvNextOrder(p).filter((n) => p.node(n));
  if (!devices.length) throw new QmpError('At least one device is required for snapshot');
  for (const d of devices) if (!p.node(d)) throw new QmpError(`No block device node '${d}'`);
  return devices;
}

/** Whether a group operation acts on `bs`: `devices || bdrv_all_snapshots_includes_bs(bs)`. */
const acts = (p: Proc, devices: string[] | undefined, bs: string) => devices !== undefined || includesBs(p, bs);

/** bdrv_snapshot_find: by name; a node without a snapshot list finds nothing (-ENOENT). */
function find(p: Proc, bs: string, name: string) {
  try { return findSnapshot(p, bs, null, name); } catch (e) { if (e instanceof QmpError) return undefined; throw e; }
}

/** bdrv_all_can_snapshot (bdrv_get_device_or_node_name: -blockdev BlockBackends have no name). */
function allCanSnapshot(p: Proc, devices: string[] | undefined): void {
  for (const bs of snapshotDevices(p, devices)) {
    if (acts(p, devices, bs) && !canSnapshot(p, bs)) throw new QmpError(`Device '${bs}' is writable but does not support snapshots`);
  }
}

/** bdrv_all_has_snapshot: 1 only when every node it looks at has the name (the first without it answers 0). */
function allHaveSnapshot(p: Proc, name: string, devices: string[] | undefined): boolean {
  for (const bs of snapshotDevices(p, devices)) if (acts(p, devices, bs) && !find(p, bs, name)) return false;
  return true;
}

/** bdrv_all_find_vmstate_bs */
export function findVmstateBs(p: Proc, vmstate: string | undefined, devices: string[] | undefined): string {
  for (const bs of snapshotDevices(p, devices)) {
    const found = acts(p, devices, bs) && canSnapshot(p, bs);
    if (vmstate !== undefined) {
      if (vmstate === bs) {
        if (found) return bs;
        throw new QmpError(`vmstate block device '${vmstate}' does not support snapshots`);
      }
    } else if (found) return bs;
  }
  throw new QmpError(vmstate !== undefined ? `vmstate block device '${vmstate}' does not exist` : 'no block device can store vmstate for snapshot');
}

/** bdrv_all_delete_snapshot: each node that has the name loses it. */
function allDeleteSnapshot(p: Proc, name: string, devices: string[] | undefined): void {
  for (const bs of snapshotDevices(p, devices)) {
    const sn = acts(p, devices, bs) ? find(p, bs, name) : undefined;
    if (!sn) continue;
    try {
      deleteSnapshot(p, bs, sn.id, sn.name);
    } catch (e) {
      if (!(e instanceof QmpError)) throw e;
      throw new QmpError(`Could not delete snapshot '${name}' on '${bs}': ${e.desc}`);
    }
  }
}

const isRunning = (p: Proc) => p.meta().runState === 'running';

/** vm_stop (do_vm_stop): STOP and the new run state only from a running VM; bdrv_drain_all whatever the state. */
function vmStop(p: Proc, emit: Emit, state: 'save-vm' | 'restore-vm'): void {
  if (isRunning(p)) {
    p.step('vm_stop');
    p.setMeta({ runState: state });
    emit('STOP', undefined as unknown as Record<string, unknown>);
  }
  drainAll(p);
}

/** vm_start: RESUME. */
function vmStart(p: Proc, emit: Emit): void {
  p.step('vm_start');
  p.setMeta({ runState: 'running' });
  emit('RESUME', undefined as unknown as Record<string, unknown>);
}

/** save_snapshot: the checks before vm_stop, then the VM state on `vmstate`'s node and a snapshot of each device. */
export function saveSnapshot(p: Proc, emit: Emit, name: string, overwrite: boolean, vmstate: string | undefined, devices: string[] | undefined): void {
  allCanSnapshot(p, devices);
  // "Delete old snapshots of the same name"
  if (overwrite) allDeleteSnapshot(p, name, devices);
  else if (allHaveSnapshot(p, name, devices)) throw new QmpError(`Snapshot '${name}' already exists in one or more devices`);
  const vmBs = findVmstateBs(p, vmstate, devices);
  const wasRunning = isRunning(p);
  vmStop(p, emit, 'save-vm');
  try {
    // bdrv_all_create_snapshot: vm_state_size on the vmstate node only; a failure deletes what it
    // made again (save_snapshot's bdrv_all_delete_snapshot), rolled back here as a whole
    p.d.atomically(() => {
      for (const bs of snapshotDevices(p, devices)) {
        if (bs !== vmBs && !acts(p, devices, bs)) continue;
        const made = createSnapshot(p, bs, Buffer.from(name).subarray(0, 255).toString(), undefined, bs === vmBs);
        if ('error' in made) throw new QmpError(`Could not create snapshot '${name}' on '${bs}'`);
      }
    });
  } finally {
    if (wasRunning) vmStart(p, emit);
  }
}

/** load_snapshot (its caller has stopped the VM). */
export function loadSnapshot(p: Proc, name: string, vmstate: string | undefined, devices: string[] | undefined): void {
  allCanSnapshot(p, devices);
  if (!allHaveSnapshot(p, name, devices)) throw new QmpError(`Snapshot '${name}' does not exist in one or more devices`);
  const vmBs = findVmstateBs(p, vmstate, devices);
  // "Don't even try to load empty VM states"
  const sn = find(p, vmBs, name);
  if (!sn) throw new QmpError(`Snapshot '${name}' does not exist in one or more devices`);
  if (!sn.vm) throw new QmpError('This is a disk-only snapshot. Revert to it  offline using qemu-img');
  // bdrv_all_goto_snapshot -> bdrv_snapshot_goto: a node with dirty bitmaps refuses (-EBUSY)
  for (const bs of snapshotDevices(p, devices)) {
    if (!acts(p, devices, bs)) continue;
    if ((p.node(bs)!.bitmaps ?? []).length) throw new QmpError(`Could not load snapshot '${name}' on '${bs}': Device has active dirty bitmaps`);
  }
  // the disks' contents revert and qemu_system_reset(SHUTDOWN_CAUSE_SNAPSHOT_LOAD) sends no RESET:
  // nothing the model keeps changes
  p.step(`load snapshot ${name}`);
}

/** delete_snapshot */
export function deleteSnapshotAll(p: Proc, name: string, devices: string[] | undefined): void {
  allCanSnapshot(p, devices);
  allDeleteSnapshot(p, name, devices);
}

/** The job around one of them: created and running, the BH's work, then DONE or FAIL with its error. */
function snapshotJob(p: Proc, emit: Emit, id: string, type: 'snapshot-save' | 'snapshot-load' | 'snapshot-delete', work: () => void): void {
  const ctx: JobCtx = { p, emit };
  createJob(ctx, { id, type, autoFinalize: true, autoDismiss: false, speed: 0, data: { kind: type } });
  sendJob(ctx, id, { type: 'START' });
  let error: string | undefined;
  // each operation checks before it changes anything, and what it changed before a later failure
  // stays (a load's vm_stop), as in QEMU: no rollback around the BH
  try {
    work();
  } catch (e) {
    if (!(e instanceof QmpError)) throw e;
    error = e.desc;
  }
  sendJob(ctx, id, error === undefined ? { type: 'DONE' } : { type: 'FAIL', error });
}

export const snapshotSave: CommandDef = {
  name: 'snapshot-save',
  mutates: true,
  run({ p, args, emit }) {
    checkArgs(args, [['job-id', true, 'str'], ['tag', true, 'str'], ['vmstate', true, 'str'], ['devices', true, 'strList']]);
    const devices = args.devices as string[];
    snapshotJob(p, emit, String(args['job-id']), 'snapshot-save', () => {
      // snapshot_save_job_bh: save_snapshot(tag, overwrite=false, vmstate, has_devices=true, …)
      saveSnapshot(p, emit, String(args.tag), false, String(args.vmstate), devices);
    });
    return {};
  },
};

export const snapshotLoad: CommandDef = {
  name: 'snapshot-load',
  mutates: true,
  run({ p, args, emit }) {
    checkArgs(args, [['job-id', true, 'str'], ['tag', true, 'str'], ['vmstate', true, 'str'], ['devices', true, 'strList']]);
    const devices = args.devices as string[];
    snapshotJob(p, emit, String(args['job-id']), 'snapshot-load', () => {
      // snapshot_load_job_bh: vm_stop(RUN_STATE_RESTORE_VM) first; vm_start only after a load
      // that worked, of a VM that was running
      const wasRunning = isRunning(p);
      vmStop(p, emit, 'restore-vm');
      // a failed load leaves the VM stopped
      loadSnapshot(p, String(args.tag), String(args.vmstate), devices);
      if (wasRunning) vmStart(p, emit);
    });
    return {};
  },
};

export const snapshotDelete: CommandDef = {
  name: 'snapshot-delete',
  mutates: true,
  run({ p, args, emit }) {
    checkArgs(args, [['job-id', true, 'str'], ['tag', true, 'str'], ['devices', true, 'strList']]);
    const devices = args.devices as string[];
    snapshotJob(p, emit, String(args['job-id']), 'snapshot-delete', () => deleteSnapshotAll(p, String(args.tag), devices));
    return {};
  },
};

export const SNAPSHOT_JOB_COMMANDS: readonly CommandDef[] = [snapshotSave, snapshotLoad, snapshotDelete];

/**
 * human-monitor-command (qmp_human_monitor_command): an HMP line run in a fresh HMP monitor, its
 * output the reply; an HMP command's error is printed there (hmp_handle_error: "Error: …"), the QMP
 * command succeeds. Modelled: savevm (save_snapshot with overwrite, no vmstate or device list:
 * every bdrv_first/bdrv_next node), loadvm (vm_stop(RUN_STATE_RESTORE_VM), load_snapshot, vm_start
 * when it worked on a running VM) and delvm (delete_snapshot); the block, device, NBD, object and
 * run-state commands, info, help and unknown names by commands/vm/hmp.ts (stop 38); other HMP
 * commands are refused as not modelled. The printed text is not what transcripts compare.
 */
export const humanMonitorCommand: CommandDef = {
  name: 'human-monitor-command',
  mutates: true,
  run(ctx) {
    const { p, args, emit } = ctx;
    checkArgs(args, [['command-line', true, 'str'], ['cpu-index', false, 'int']]);
    const words = String(args['command-line']).trim().split(/\s+/);
    const [cmd, name] = words;
    const run = (fn: () => void): string => {
      try { fn(); return ''; } catch (e) {
        if (!(e instanceof QmpError)) throw e;
        return `Error: ${e.desc}\r\n`;
      }
    };
    if (cmd === 'savevm' && words.length <= 2) {
      // hmp_savevm: qdict_get_try_str(name); without one save_snapshot names it after the clock
      if (name === undefined) throw new QmpError('blockgraph: savevm without a name is not modelled (its name is the host clock\'s: vm-%Y%m%d%H%M%S)');
      return run(() => saveSnapshot(p, emit, name, true, undefined, undefined)) as never;
    }
    if (cmd === 'loadvm' && words.length === 2) {
      const wasRunning = isRunning(p);
      vmStop(p, emit, 'restore-vm');
      return run(() => { loadSnapshot(p, name!, undefined, undefined); if (wasRunning) vmStart(p, emit); }) as never;
    }
    if (cmd === 'delvm' && words.length === 2) return run(() => deleteSnapshotAll(p, name!, undefined)) as never;
    // the block, device, NBD, object and run-state commands, info, help and unknown names (commands/vm/hmp.ts)
    if (cmd !== 'savevm' && cmd !== 'loadvm' && cmd !== 'delvm') {
      const out = runHmpLine(ctx, String(args['command-line']));
      if (out !== undefined) return out as never;
    }
    throw new QmpError(`blockgraph: human-monitor-command '${String(args['command-line'])}' is not modelled (savevm, loadvm and delvm with a name, and commands/vm/hmp.ts's are)`);
  },
};
