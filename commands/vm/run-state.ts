// stop / cont (vm target), as softmmu/cpus.c and monitor/qmp-cmds.c: `-S` starts in prelaunch;
// stop sends STOP only from a running VM (do_vm_stop); cont sends RESUME (vm_prepare_start), and
// nothing when already running: vm_prepare_start returns at once when no vmstop request is pending
// (its STOP + RESUME pair is only for a pending one, e.g. after BLOCK_IO_ERROR, which the model
// never raises; vm/vm-c-stop-cont-jobs #16).
import { devices, putDevice } from '../../graph/devices/ops.js';
import { drainAll } from '../../graph/drain.js';
import { keepingPartial, setActiveAll } from '../../graph/inactive.js';
import { rule } from '../../graph/rules.js';
import type { CommandDef } from '../types.js';
import { checkArgs } from './qapi.js';

export const stop: CommandDef = {
  name: 'stop',
  mutates: true,
  run({ p, args, emit }) {
    checkArgs(args, []);
    // qmp_stop: a destination waiting for its migration only forgets -S's opposite (autostart = 0)
    if (p.meta().runState === 'inmigrate') return {};
    if (p.meta().runState === 'running') {
      p.step('vm_stop');
      p.setMeta({ runState: 'paused' });
      emit('STOP', undefined as unknown as Record<string, unknown>);
    }
    // do_vm_stop drains every node whatever the run state (bdrv_drain_all, then bdrv_flush_all):
    // each job pauses and resumes, and a speed-limited one asleep wakes (fuzz --against vm 534016424:
    // an active commit with nothing to copy went ready at a `stop` in prelaunch)
    p.step('bdrv_drain_all');
    drainAll(p);
    return {};
  },
};

export const cont: CommandDef = {
  name: 'cont',
  mutates: true,
  run({ p, args, emit }) {
    checkArgs(args, []);
    // qmp_cont in incoming migration: autostart = 1 and no vm_start (the incoming migration's end
    // starts the VM); 7.2 activates the images first all the same, 10.0 returns before
    // migration_block_activate (graph/rules.ts cont-inmigrate-activates)
    if (p.meta().runState === 'inmigrate') {
      if (rule(p, 'cont-inmigrate-activates')) keepingPartial(p, (q) => setActiveAll(q, true));
      return {};
    }
    // qmp_cont (not in incoming migration): "Images have been inactivated to allow the
    // destination to take control. Need to get control back now": bdrv_activate_all (10.0:
    // migration_block_activate) before vm_start, whatever the run state, a running VM's too. Its
    // failure is cont's error, the VM not started, the nodes activated before the failing one
    // staying active (graph/inactive.ts keepingPartial). 7.2 calls bdrv_activate_all too, but no
    // 7.2 node is ever inactive (no blockdev-set-active, no `active`: rule qapi-schema)
    keepingPartial(p, (q) => setActiveAll(q, true));
    if (p.meta().runState === 'running') return {};
    p.step('vm_start');
    p.setMeta({ runState: 'running' });
    emit('RESUME', undefined as unknown as Record<string, unknown>);
    return {};
  },
};

/**
 * qmp_query_status (softmmu/runstate.c, system/ in 10.0): runstate_is_running() and the current
 * run state; 7.2's StatusInfo still has `singlestep` (the -singlestep flag, false here), which the
 * schema dropped after its deprecation in 8.1 (the qapi-schema rule). The run state is only this
 * target's: qemu-storage-daemon's schema has no run-state.json (CommandNotFound there).
 */
export const queryStatus: CommandDef = {
  name: 'query-status',
  mutates: false,
  run({ p, args }) {
    checkArgs(args, []);
    const status = p.meta().runState ?? 'prelaunch';
    return { running: status === 'running', ...(rule(p, 'qapi-schema') === '7.2' ? { singlestep: false } : {}), status };
  },
};

/**
 * system_reset (qmp_system_reset -> qemu_system_reset_request(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET)):
 * the main loop's qemu_system_reset resets the machine and sends RESET (guest false, that reason)
 * whatever the run state; the run state stays (no -no-reboot). The devices' resets change nothing
 * the model keeps (no guest-locked media: docs/vm.md "Not modelled").
 */
export const systemReset: CommandDef = {
  name: 'system_reset',
  mutates: true,
  run({ p, args, emit }) {
    checkArgs(args, []);
    p.step('qemu_system_reset');
    // qemu_devices_reset resets every device before the RESET event: scsi_disk_reset (scsi-cd, a
    // removable scsi-hd, a usb-storage's scsi-disk) and ide_reset (ide-cd) set tray_open and
    // tray_locked to 0 without DEVICE_TRAY_MOVED (a floppy has no tray)
    for (const d of devices(p)) if (d.tray?.open) putDevice(p, { ...d, tray: { ...d.tray, open: false } });
    emit('RESET', { guest: false, reason: 'host-qmp-system-reset' });
    return {};
  },
};

/**
 * system_powerdown (qmp_system_powerdown -> qemu_system_powerdown_request): POWERDOWN, then the
 * machine's powerdown notifier (ACPI's power button) for a guest to act on; no guest acts here.
 */
export const systemPowerdown: CommandDef = {
  name: 'system_powerdown',
  mutates: true,
  run({ p, args, emit }) {
    checkArgs(args, []);
    p.step('qemu_system_powerdown');
    emit('POWERDOWN', undefined as unknown as Record<string, unknown>);
    return {};
  },
};
