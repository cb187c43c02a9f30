import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import { stateHash } from '../../graph/hash.js';
import { replay, seqAtTime } from '../../replay/replay.js';
import { DEFAULT_DB, printJson, withReadLog } from '../context.js';
import { renderText } from '../render-text.js';

export function registerShow(program: Command): void {
  program.command('show')
    .description('print the graph, now or as it was at a seq or time')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--at <seq|time>', 'a seq number or an ISO time')
    .option('--json', 'the state as JSON')
    .action(async (o) => {
      await withReadLog(o.db, async (log) => {
        let upTo: number | undefined;
        if (o.at !== undefined) {
          upTo = /^\d+$/.test(o.at) ? Number(o.at) : await seqAtTime(log, o.at);
          if (upTo > log.head) throw new BlockgraphError('BG_BAD_INPUT', `seq ${upTo} is beyond the head (${log.head})`);
        }
        const f = await replay(log, { upTo });
        if (o.json) printJson({ seq: f.seq, stateHash: stateHash(f.state), openTransactions: [...f.open.keys()], state: f.state });
        else console.log(`at seq ${f.seq}${f.open.size ? ` (transactions open: ${[...f.open.keys()].join(', ')})` : ''}\n${renderText(f.state)}`);
      });
    });
}
