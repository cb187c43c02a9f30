// QEMU 10.0.2's QAPI schema where it differs from 7.2's (table.ts) in what the model runs: the
// commands and members added since 7.2 that the iotests of 10.0 use (qapi/block-core.json,
// block-export.json, job.json of 10.0.2). Members keep the schema's order (the visitor reports
// the first bad member in that order). Chosen per process by graph/rules.ts 'qapi-schema'.
import { COMMANDS, TYPES } from './table.js';
import type { TypeDef } from './types.js';

type Data = Readonly<Record<string, string | readonly [string]>>;

/** `data` with `member: type` put before `before` (appended when `before` is absent). */
function insert(data: Data, member: string, type: string, before?: string): Data {
  const out: Record<string, string | readonly [string]> = {};
  let done = false;
  for (const [k, v] of Object.entries(data)) {
    if (k === before) { out[member] = type; done = true; }
    out[k] = v;
  }
  if (!done) out[member] = type;
  return out;
}

function withMember(t: string, member: string, type: string, before?: string): TypeDef {
  const d = TYPES[t];
  if (!d || !('data' in d)) throw new Error(`qapi table: ${t} is not an object type`);
  return { ...d, data: insert(d.data, member, type, before) };
}

function withoutMember(t: string, member: string): TypeDef {
  const d = TYPES[t];
  if (!d || !('data' in d)) throw new Error(`qapi table: ${t} is not an object type`);
  const { [member]: _gone, ...data } = d.data;
  return { ...d, data };
}

// BackupCommon (since 9.1): '*discard-source': 'bool' before '*x-perf'
const BACKUP_TYPES = Object.keys(TYPES).filter((t) => { const d = TYPES[t]!; return 'data' in d && '*x-perf' in d.data && '*filter-node-name' in d.data; });

const BACKUP_COMMON_10_0 = {
  '*job-id': 'str', device: 'str', sync: 'MirrorSyncMode', '*speed': 'int', '*bitmap': 'str', '*bitmap-mode': 'q_obj_blockdev-backup-argBitmapMode',
  '*compress': 'bool', '*on-source-error': 'BlockdevOnError', '*on-target-error': 'BlockdevOnError', '*auto-finalize': 'bool', '*auto-dismiss': 'bool',
  '*filter-node-name': 'str',
  // since 9.1 (backup_job_create's discard_source: the copy-before-write filter takes write on its source)
  '*discard-source': 'bool',
  '*x-perf': 'q_obj_blockdev-backup-argXPerf',
} as const;

export const TYPES_10_0: Record<string, TypeDef> = {
  ...TYPES,
  // BlockdevOptions' base (since 10.0): '*active' after '*cache'
  BlockdevOptions: withMember('BlockdevOptions', '*active', 'bool', '*read-only'),
  // BlockExportOptions' base (since 10.0): '*allow-inactive' last
  BlockExportOptions: withMember('BlockExportOptions', '*allow-inactive', 'bool'),
  // BlockdevOptionsQcow2 (since 8.1): '*discard-no-unref' after '*pass-discard-other' (qcow2_update_options_prepare: graph/driver-options/qcow2.ts)
  BlockdevOptionsQcow2: withMember('BlockdevOptionsQcow2', '*discard-no-unref', 'bool', '*overlap-check'),
  ...Object.fromEntries(BACKUP_TYPES.map((t) => [t, withMember(t, '*discard-source', 'bool', '*x-perf')])),
  // crypto.json SecretCommonProperties: the deprecated read-only `loaded` is gone (7.2's setter-less
  // property answers "Property 'secret.loaded' is not writable": commands/objects.ts)
  ObjectOptionsSecret: withoutMember('ObjectOptionsSecret', '*loaded'),
  ObjectOptionsSecretKeyring: withoutMember('ObjectOptionsSecretKeyring', '*loaded'),
  // BlockdevOptionsLUKS (since 9.0): a detached LUKS header (block_crypto_open_generic's `header`
  // child, graph/open.ts)
  BlockdevOptionsLuks: withMember('BlockdevOptionsLuks', '*header', 'BlockdevRef'),
  // BlockdevCreateOptionsLUKS (since 9.0): `file` optional, a detached `header` after it
  // (block_crypto_co_create_luks; commands/blockdev-create.ts luksDetachedCreate)
  'q_obj_blockdev-create-argOptionsLuks': (() => {
    const d = TYPES['q_obj_blockdev-create-argOptionsLuks']!;
    if (!('data' in d)) throw new Error('qapi table: q_obj_blockdev-create-argOptionsLuks');
    const { file: _f, ...rest } = d.data;
    return { ...d, data: insert(insert(rest, '*file', 'BlockdevRef', 'size'), '*header', 'BlockdevRef', 'size') };
  })(),
  // job.json
  JobType: { enum: ['commit', 'stream', 'mirror', 'backup', 'create', 'amend', 'snapshot-load', 'snapshot-save', 'snapshot-delete'] },
  // block-core.json BlockJobChangeOptions (since 8.2), boxed
  BlockJobChangeOptions: { data: { id: 'str', type: 'JobType' }, tag: 'type', cases: { mirror: 'BlockJobChangeOptionsMirror' } },
  BlockJobChangeOptionsMirror: { data: { 'copy-mode': 'MirrorCopyMode' } },
  'q_obj_blockdev-set-active-arg': { data: { '*node-name': 'str', active: 'bool' } },
  // the job and export commands' members 10.0 added or moved (written out in full, schema order)

  // BackupCommon, BlockdevBackup, DriveBackup (transaction's actions reach them too)
  'q_obj_blockdev-backup-arg': { data: { ...BACKUP_COMMON_10_0, target: 'str' } },
  'q_obj_drive-backup-arg': { data: { ...BACKUP_COMMON_10_0, target: 'str', '*format': 'str', '*mode': 'q_obj_drive-mirror-argMode' } },
  // BackupPerf: min-cluster-size is a 'size', which the QMP input visitor reads as a uint64 (type_size = qobject_input_type_uint64)
  'q_obj_blockdev-backup-argXPerf': { data: { '*use-copy-range': 'bool', '*max-workers': 'int', '*max-chunk': 'int', '*min-cluster-size': 'uint64' } },
  // since 9.0: backing-mask-protocol (the backing file name written without the protocol prefix)
  'q_obj_block-stream-arg': { data: { '*job-id': 'str', device: 'str', '*base': 'str', '*base-node': 'str', '*backing-file': 'str', '*backing-mask-protocol': 'bool', '*bottom': 'str', '*speed': 'int', '*on-error': 'BlockdevOnError', '*filter-node-name': 'str', '*auto-finalize': 'bool', '*auto-dismiss': 'bool' } },
  // NbdServerOptionsLegacy: NbdServerOptionsBase's members (handshake-max-seconds new in 10.0) before addr
  'q_obj_nbd-server-start-arg': { data: { '*handshake-max-seconds': 'uint32', '*tls-creds': 'str', '*tls-authz': 'str', '*max-connections': 'uint32', addr: 'SocketAddressLegacy' } },
  'q_obj_block-commit-arg': { data: { '*job-id': 'str', device: 'str', '*base-node': 'str', '*base': 'str', '*top-node': 'str', '*top': 'str', '*backing-file': 'str', '*backing-mask-protocol': 'bool', '*speed': 'int', '*on-error': 'BlockdevOnError', '*filter-node-name': 'str', '*auto-finalize': 'bool', '*auto-dismiss': 'bool' } },
};

export const COMMANDS_10_0: Record<string, string> = {
  ...COMMANDS,
  'block-job-change': 'BlockJobChangeOptions',
  'blockdev-set-active': 'q_obj_blockdev-set-active-arg',
};
