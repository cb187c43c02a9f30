// The grammar's command families, one file each (weights beside the core productions of
// grammar.ts). A new family: a file exporting its [production, weight] list, added here.
import type { Production } from '../production.js';
import { EXPORTS } from './exports.js';
import { FILTERS } from './filters.js';
import { FROZEN } from './frozen.js';
import { JOB_STATES } from './job-states.js';
import { CREATE_FORMATS } from './create-formats.js';
import { RARE } from './rare.js';
import { IOTHREADS } from './iothreads.js';
import { IOT_COMMANDS } from './iot-commands.js';
import { JOBS } from './jobs.js';
import { REOPEN_LISTS } from './reopen-lists.js';
import { SECOND_PROCESS } from './second-process.js';
import { SNAPSHOTS } from './snapshots.js';
import { WIDENED } from './widened.js';
import { QUERIES, QUERIES_B } from './queries.js';
import { EXPORT_KINDS } from './export-kinds.js';
import { GAPS_43 } from './gaps43.js';
import { GAPS_44 } from './gaps44.js';

/** Process A. */
export const FAMILIES_A: [Production, number][] = [
  ...REOPEN_LISTS, ...FILTERS, ...EXPORTS, ...SNAPSHOTS, ...FROZEN, ...JOBS, ...IOTHREADS,
  // the commands modelled on branch iot: drive-backup, change-backing-file, internal snapshots, nbd-server-remove
  ...IOT_COMMANDS,
  // stop 33: what scripts/fuzz-coverage.ts showed the grammar never or rarely sent
  ...WIDENED,
  // stop 34: jobs steered into each state before a verb, every format created
  ...JOB_STATES, ...CREATE_FORMATS, ...RARE,
  // stop 41: the block queries, whose replies a case compares
  ...QUERIES,
  // stop 42: what the grammar never drew
  ...EXPORT_KINDS,
  // stop 43: x-blockdev-amend, block_resize of a job's nodes, a filter's file reopened
  ...GAPS_43,
  // stop 44: a qcow2 node's discard pass-through with clusters freed, blockdev-backup's discard-source
  ...GAPS_44,
];
/** Process B (the second daemon on the same images). */
export const FAMILIES_B: [Production, number][] = [...SECOND_PROCESS, ...QUERIES_B];
