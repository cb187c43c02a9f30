import { cancelOrphanedJobs } from '../graph/jobs/recovery.js';
import type { CommandDef } from './types.js';

/**
 * blockgraph's own: cancel every unfinished job of this process (graph/jobs/recovery.ts),
 * as QEMU would have lost them with its process. The engine runs it at recovery when asked
 * to model a QEMU crash (`recoverJobs: 'cancel'`), as an ordinary logged transaction.
 */
export const cancelOrphanedJobsCommand: CommandDef = {
  name: 'x-blockgraph-cancel-orphaned-jobs',
  mutates: true,
  run(ctx) {
    for (const ev of cancelOrphanedJobs(ctx.p)) ctx.emit(ev.event, ev.data);
    return {};
  },
};
