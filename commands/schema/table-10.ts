// Commands QSD 10.0.2 has and 7.2.22 has not, that the model carries out, with their argument
// types as 10.0's qapi/*.json define them (hand-written: table.ts is generated from 7.2). Only a
// process whose version has the command sees it (commands/model.ts, graph/rules.ts
// 'block-job-change-command'); on 7.2 it stays "The command … has not been found".
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
