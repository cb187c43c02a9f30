// The command table of the model. One command per file; this is the only list.
import { blockdevAdd } from './blockdev-add.js';
import { blockdevDel } from './blockdev-del.js';
import { blockResize } from './block-resize.js';
import { blockExportAdd, blockExportDel, nbdServerStart, nbdServerStop } from './exports.js';
import { objectAdd, objectDel } from './objects.js';
import { qmpCapabilities, queryBlockExports, queryJobs, queryNamedBlockNodes, queryVersion, xDebugQueryBlockGraph } from './queries.js';
import type { CommandDef } from './types.js';
import { xBlockdevChange } from './x-blockdev-change.js';
import { imageCreate } from './image-create.js';
import { configure } from './configure.js';
import { processStart } from './process-start.js';
import { hostFactsCommand } from './host-facts.js';
import { cancelOrphanedJobsCommand } from './cancel-orphaned-jobs.js';
import { xBlockdevSetIothread } from './x-blockdev-set-iothread.js';
import { blockdevReopen } from './blockdev-reopen.js';
import { blockStream } from './block-stream.js';
import { blockCommit } from './block-commit.js';
import { blockdevMirror } from './blockdev-mirror.js';
import { blockdevSnapshot, blockdevSnapshotInternalSync } from './blockdev-snapshot.js';
import { blockdevSnapshotSync, transaction } from './transaction.js';
import { nbdServerAdd } from './nbd-server-add.js';
import { nbdServerRemove } from './nbd-server-remove.js';
import { blockdevSnapshotDeleteInternalSync } from './internal-snapshot.js';
import { driveBackup } from './drive-backup.js';
import { changeBackingFileCommand } from './change-backing-file.js';
import { driveMirror } from './drive-mirror.js';
import { blockdevBackup } from './blockdev-backup.js';
import { jobVerbCommands } from './job-verbs.js';
import { xBlockgraphJobAdvance } from './x-blockgraph-job-advance.js';
import { blockdevSetActive } from './blockdev-set-active.js';

export type { CommandCtx, CommandDef } from './types.js';

export const COMMANDS = new Map<string, CommandDef>();

export function registerCommand(def: CommandDef): void {
  COMMANDS.set(def.name, def);
}

for (const c of [
  blockdevAdd, blockdevDel, blockResize, blockExportAdd, blockExportDel, nbdServerStart, nbdServerStop,
  objectAdd, objectDel, xBlockdevChange, imageCreate,
  xDebugQueryBlockGraph, queryNamedBlockNodes, queryBlockExports, queryJobs, qmpCapabilities, queryVersion,
]) registerCommand(c);
registerCommand(xBlockdevSetIothread);
registerCommand(blockdevReopen);
for (const c of [blockStream, blockCommit, blockdevMirror, blockdevSnapshot, ...jobVerbCommands, xBlockgraphJobAdvance]) registerCommand(c);
registerCommand(cancelOrphanedJobsCommand);
for (const c of [transaction, blockdevSnapshotSync, blockdevSnapshotInternalSync, blockdevSnapshotDeleteInternalSync, nbdServerAdd, nbdServerRemove, driveMirror, blockdevBackup, driveBackup, changeBackingFileCommand]) registerCommand(c);
registerCommand(configure);
registerCommand(blockdevSetActive);
registerCommand(processStart);
registerCommand(hostFactsCommand);
// issue 13: the rest of QSD 7.2's command list (query-commands), each answered as QSD does or refused as not modelled
import { quit } from './quit.js';
import { queryCommands, queryQmpSchema } from './introspection.js';
import { queryBlock, queryBlockJobs, queryBlockstats } from './block-queries.js';
import { unmodelledCommands } from './unmodelled.js';
import { qomGet, qomList, qomSet } from './qom.js';
for (const c of [quit, queryCommands, queryQmpSchema, queryBlock, queryBlockJobs, queryBlockstats, qomGet, qomSet, qomList]) registerCommand(c);
import { bitmapCommands } from './block-dirty-bitmap.js';
for (const c of bitmapCommands) registerCommand(c);
import { blockdevCreate } from './blockdev-create.js';
registerCommand(blockdevCreate);
import { xBlockdevAmend } from './x-blockdev-amend.js';
registerCommand(xBlockdevAmend);
import { blockSetWriteThreshold } from './block-set-write-threshold.js';
registerCommand(blockSetWriteThreshold);
// issue 17: the vm target's commands (a process answers them only once it is a VM: model.ts)
import { VM_COMMANDS, queryChardev, qomListProperties, xBlockgraphMachine, xBlockgraphMachineFacts } from './vm/index.js';
for (const c of [...VM_COMMANDS, xBlockgraphMachine, xBlockgraphMachineFacts, queryChardev, qomListProperties]) registerCommand(c);
for (const c of unmodelledCommands((n) => COMMANDS.has(n))) registerCommand(c);
