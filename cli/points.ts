// A point of the log given on the command line (a seq number or an ISO time, parsed by
// args.ts pointArg) resolved against one log: a time means the last record at or before it.
import { BlockgraphError } from '../errors/index.js';
import type { EventLog } from '../store/index.js';
import type { Point } from './args.js';

export async function resolvePoint(log: EventLog, p: Point, flag: string): Promise<number> {
  if ('seq' in p) {
    if (p.seq > log.head) throw new BlockgraphError('BG_BAD_INPUT', `${flag}: seq ${p.seq} is beyond the head (${log.head})`);
    return p.seq;
  }
  const { seqAtTime } = await import('../replay/replay.js');
  const seq = await seqAtTime(log, p.time);
  if (seq === 0 && log.head > 0) throw new BlockgraphError('BG_BAD_INPUT', `${flag}: ${p.time} is before the first record`);
  return seq;
}
