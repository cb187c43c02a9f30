// Commands QSD 10.0.2 has and 7.2.22 has not, that the model carries out, and the argument types
// 10.0 changed, as 10.0's qapi/*.json define them (hand-written: table.ts is generated from 7.2).
// Only a 10.0 process sees them (commands/model.ts, graph/rules.ts 'block-job-change-command' and
// 'job-args-10'); on 7.2 the command stays "The command … has not been found" and a new member
// "Parameter '…' is unexpected".
import type { TypeDef } from './types.js';

export const COMMANDS_10_0: Record<string, string> = {
  // qapi/block-core.json (since 8.2): 'data': 'BlockJobChangeOptions', 'boxed': true
  'block-job-change': 'BlockJobChangeOptions',
};

export const TYPES_10_0: Record<string, TypeDef> = {
  BlockJobChangeOptions: { data: { id: 'str', type: 'JobType' }, tag: 'type', cases: { mirror: 'BlockJobChangeOptionsMirror' } },
  BlockJobChangeOptionsMirror: { data: { 'copy-mode': 'MirrorCopyMode' } },
  // qapi/job.json
  JobType: { enum: ['commit', 'stream', 'mirror', 'backup', 'create', 'amend', 'snapshot-load', 'snapshot-save', 'snapshot-delete'] },
};

const BACKUP_COMMON_10_0 = {
  '*job-id': 'str', device: 'str', sync: 'MirrorSyncMode', '*speed': 'int', '*bitmap': 'str', '*bitmap-mode': 'q_obj_blockdev-backup-argBitmapMode',
  '*compress': 'bool', '*on-source-error': 'BlockdevOnError', '*on-target-error': 'BlockdevOnError', '*auto-finalize': 'bool', '*auto-dismiss': 'bool',
  '*filter-node-name': 'str',
  // since 9.1 (backup_job_create's discard_source: the copy-before-write filter takes write on its source)
  '*discard-source': 'bool',
  '*x-perf': 'q_obj_blockdev-backup-argXPerf',
} as const;

/** 10.0's form of types 7.2 also has: the 10.0 visitor (validateCommand with version 10.0) takes these instead. */
export const TYPES_10_0_CHANGED: Record<string, TypeDef> = {
  // BackupCommon, BlockdevBackup, DriveBackup (transaction's actions reach them too)
  'q_obj_blockdev-backup-arg': { data: { ...BACKUP_COMMON_10_0, target: 'str' } },
  'q_obj_drive-backup-arg': { data: { ...BACKUP_COMMON_10_0, target: 'str', '*format': 'str', '*mode': 'q_obj_drive-mirror-argMode' } },
  // BackupPerf: min-cluster-size is a 'size', which the QMP input visitor reads as a uint64 (type_size = qobject_input_type_uint64)
  'q_obj_blockdev-backup-argXPerf': { data: { '*use-copy-range': 'bool', '*max-workers': 'int', '*max-chunk': 'int', '*min-cluster-size': 'uint64' } },
  // since 9.0: backing-mask-protocol (the backing file name written without the protocol prefix)
  'q_obj_block-stream-arg': { data: { '*job-id': 'str', device: 'str', '*base': 'str', '*base-node': 'str', '*backing-file': 'str', '*backing-mask-protocol': 'bool', '*bottom': 'str', '*speed': 'int', '*on-error': 'BlockdevOnError', '*filter-node-name': 'str', '*auto-finalize': 'bool', '*auto-dismiss': 'bool' } },
  // NbdServerOptionsLegacy: NbdServerOptionsBase's members (handshake-max-seconds new in 10.0) before addr
  'q_obj_nbd-server-start-arg': { data: { '*handshake-max-seconds': 'uint32', '*tls-creds': 'str', '*tls-authz': 'str', '*max-connections': 'uint32', addr: 'SocketAddressLegacy' } },
  // allow-inactive (blk_exp_add: without it bdrv_activate, a no-op on an active node; NBD supports inactive exports)
  BlockExportOptions: { data: { type: 'BlockExportType', id: 'str', '*fixed-iothread': 'bool', '*iothread': 'str', 'node-name': 'str', '*writable': 'bool', '*writethrough': 'bool', '*allow-inactive': 'bool' }, tag: 'type', cases: { nbd: 'BlockExportOptionsNbd', 'vhost-user-blk': 'BlockExportOptionsVhostUserBlk', fuse: 'BlockExportOptionsFuse', 'vduse-blk': 'BlockExportOptionsVduseBlk' } },
  'q_obj_block-commit-arg': { data: { '*job-id': 'str', device: 'str', '*base-node': 'str', '*base': 'str', '*top-node': 'str', '*top': 'str', '*backing-file': 'str', '*backing-mask-protocol': 'bool', '*speed': 'int', '*on-error': 'BlockdevOnError', '*filter-node-name': 'str', '*auto-finalize': 'bool', '*auto-dismiss': 'bool' } },
};
