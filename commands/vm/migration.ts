// The migration source's block side (migration/migration.c of 7.2, 10.0): `migrate` to a sink that
// takes the whole stream (exec:, 10.0's file:) runs to its end without a destination, and what the
// block layer sees is its completion: migration_completion stops the VM (vm_stop_force_state
// (RUN_STATE_FINISH_MIGRATE): STOP from a running VM), then qemu_savevm_state_complete_precopy
// inactivates every image (bdrv_inactivate_all; 10.0: migration_block_inactivate) and the source
// ends in postmigrate (migration_iteration_finish). An inactivation that fails fails the migration:
// every image is activated again (below), and the VM runs again if it ran (vm_start: RESUME) or
// ends in postmigrate (7.2) or its old run state (10.0). `cont` gets the images back (qmp_cont:
// bdrv_activate_all, commands/vm/run-state.ts).
// The model's migration is over when the command returns (the recorder settles `migrate` on
// query-migrate: oracle/harness.ts); a migration still running (a throttled one, a socket to
// connect) is not modelled.
import { QmpError } from '../../errors/index.js';
import { QemuAbortRefusal } from '../../graph/qemu-abort.js';
import { drainAll } from '../../graph/drain.js';
import { setActiveAll } from '../../graph/inactive.js';
import { rule } from '../../graph/rules.js';
import type { CommandDef } from '../types.js';
import { checkArgs, type Member } from './qapi.js';
import { refuseUnmigratable } from './migration-blockers.js';

/** MigrateCommand's members: 7.2 still has blk and inc (deprecated, removed in 9.1 with block migration); 10.0 has channels and uri optional. */
const MIGRATE_ARGS: Record<'7.2' | '10.0', readonly Member[]> = {
  '7.2': [['uri', true, 'str'], ['blk', false, 'bool'], ['inc', false, 'bool'], ['detach', false, 'bool'], ['resume', false, 'bool']],
  '10.0': [['uri', false, 'str'], ['detach', false, 'bool'], ['resume', false, 'bool']],
};

/** The URI schemes qmp_migrate starts an outgoing migration for (7.2: its strstart chain; 10.0: migrate_uri_parse). */
const SCHEMES: Record<'7.2' | '10.0', readonly string[]> = {
  '7.2': ['tcp:', 'unix:', 'vsock:', 'rdma:', 'exec:', 'fd:'],
  '10.0': ['tcp:', 'unix:', 'vsock:', 'rdma:', 'exec:', 'fd:', 'file:'],
};

export const migrate: CommandDef = {
  name: 'migrate',
  mutates: true,
  run({ p, args, emit }) {
    const v = rule(p, 'qapi-schema');
    const parse = rule(p, 'migrate-uri-parse');
    if (v === '10.0' && 'channels' in args) throw new QmpError("blockgraph: migrate's 'channels' is not modelled");
    checkArgs(args, MIGRATE_ARGS[v]);
    if (args.resume === true) throw new QmpError('blockgraph: a postcopy resume is not modelled');
    const uri = args.uri as string | undefined;
    if (uri === undefined) throw new QmpError('need either \'uri\' or \'channels\' argument');
    // 10.0: migrate_uri_parse before migrate_prepare; 7.2: migrate_prepare, then the scheme
    if (parse === '10.0' && !SCHEMES[parse].some((s) => uri.startsWith(s))) throw new QmpError(`unknown migration protocol: ${uri}`);
    // migrate_prepare: no migration runs in the model between commands
    if (p.meta().runState === 'inmigrate') throw new QmpError('Guest is waiting for an incoming migration');
    if (p.meta().runState === 'postmigrate') throw new QmpError("Can't migrate the vm that was paused due to previous migration");
    refuseUnmigratable(p);
    if (parse === '7.2' && !SCHEMES[parse].some((s) => uri.startsWith(s))) throw new QmpError("Parameter 'uri' expects a valid migration protocol");
    if (!uri.startsWith('exec:') && !uri.startsWith('file:')) throw new QmpError(`blockgraph: a migration to '${uri}' is not modelled (exec: and file: ones are)`);
    // migration_completion
    const wasRunning = p.meta().runState === 'running';
    const oldState = p.meta().runState;
    p.step('migration_completion');
    if (wasRunning) {
      p.setMeta({ runState: 'finish-migrate' });
      emit('STOP', undefined as unknown as Record<string, unknown>);
    }
    drainAll(p);
    try {
      setActiveAll(p, false);
    } catch (e) {
      if (!(e instanceof QmpError) || e instanceof QemuAbortRefusal) throw e;
      // the migration failed (MIGRATION_STATUS_FAILED): the images come back first — probed on
      // 7.2.22, which behaves as upstream's "migration: Handle block device inactivation failures
      // better" (8.0; s->block_inactive set before qemu_savevm_state_complete_precopy, so
      // migration_completion's `fail:` runs bdrv_activate_all; 7.2.0's goto fail skipped it), and
      // 10.0's migration_iteration_finish (migration_block_activate); an activation error is only
      // reported (error_report_err), the nodes activated before it staying active
      p.step('migration failed');
      try {
        setActiveAll(p, true);
      } catch (x) {
        if (!(x instanceof QmpError) || x instanceof QemuAbortRefusal) throw x;
      }
      // then the run state: a VM that ran runs again (vm_start: RESUME); one that did not ends in
      // postmigrate on 7.2 (migration_iteration_finish: FINISH_MIGRATE -> POSTMIGRATE) and back in
      // the run state it had on 10.0 (runstate_set(s->vm_old_state)): rule migrate-failed-run-state
      if (wasRunning) {
        p.setMeta({ runState: 'running' });
        emit('RESUME', undefined as unknown as Record<string, unknown>);
      } else p.setMeta({ runState: rule(p, 'migrate-failed-run-state') === 'old-state' ? oldState : 'postmigrate' });
      return {};
    }
    p.setMeta({ runState: 'postmigrate' });
    return {};
  },
};

/** migrate_cancel (migration_cancel): nothing to cancel once the model's migration has ended. */
export const migrateCancel: CommandDef = {
  name: 'migrate_cancel',
  mutates: false,
  run({ args }) {
    checkArgs(args, []);
    return {};
  },
};

export const MIGRATION_COMMANDS: readonly CommandDef[] = [migrate, migrateCancel];
