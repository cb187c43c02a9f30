// `blockgraph log`: the event log as a table (or JSON), one row per record.
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import type { LogRecord } from '../../store/types.js';
import { seqArg } from '../args.js';
import { DEFAULT_DB, table, withReadLog } from '../context.js';
import { streamJsonArray, streamTable } from '../stream-out.js';

export function summary(r: LogRecord): string {
  const d = r.data as Record<string, any>;
  switch (r.type) {
    case 'txn.begun': {
      const what = `${d.op} ${JSON.stringify(d.args)}`;
      // a whole transaction (events/whole.ts): its steps and decision are in this record
      return d.decided ? `${what.slice(0, 80)} [${d.steps?.length ?? 0} steps, ${d.decided.outcome}]` : what.slice(0, 100);
    }
    case 'txn.step': return `${d.name} (${d.changes.length} changes)`;
    case 'txn.compensated': return `undo seq ${d.undoes}`;
    case 'txn.decided': return d.outcome + (d.reason ? ` (${d.reason})` : '');
    case 'txn.ended': return d.recovered ? `recovered: ${d.recovered}` : '';
    case 'command.rejected': return `${d.command ?? 'input'}${d.count > 1 ? ` ×${d.count}` : ''}: ${d.error?.desc ?? ''}`.slice(0, 100);
    default: return '';
  }
}

export const LOG_HEADER = ['seq', 'time', 'proc', 'type', 'txn', 'what'];
export const logCells = (r: LogRecord): string[] => [String(r.seq), r.at.slice(11, 23), r.stream, r.type, r.txn ?? '', summary(r)];

export function logTable(records: LogRecord[]): string {
  return table(records.map(logCells), LOG_HEADER);
}

/** --from/--to against the log: a bad range is the user's mistake, not an empty answer. */
export function checkRange(head: number, from: number, to: number | undefined): void {
  if (head === 0 && from === 1 && to === undefined) return; // an empty store: an empty answer
  if (from > head) throw new BlockgraphError('BG_BAD_INPUT', `--from ${from} is beyond the head (${head})`);
  // Refused, not clamped: as --from, `show --at` and `fixture export --to` treat a seq past the head.
  if (to !== undefined && to > head) throw new BlockgraphError('BG_BAD_INPUT', `--to ${to} is beyond the head (${head})`);
  if (to !== undefined && to < from) throw new BlockgraphError('BG_BAD_INPUT', `--to ${to} is before --from ${from}`);
}

async function* rowsOf(src: AsyncIterable<LogRecord>): AsyncGenerator<string[], void, undefined> {
  for await (const r of src) yield logCells(r);
}

export function registerLog(program: Command): void {
  program.command('log')
    .description('print the event log, one row per record (seq, time, process, type, transaction, summary)')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--from <seq>', 'first seq', seqArg('--from'), 1)
    .option('--to <seq>', 'last seq (default: the head)', seqArg('--to'))
    .option('--json', 'JSON records')
    .addHelpText('after', `
Examples:
  $ blockgraph log --db ./blockgraph.db --from 20 --to 40
  $ blockgraph log --json | head -c 2000`)
    .action(async (o) => {
      await withReadLog(o.db, async (log) => {
        checkRange(log.head, o.from, o.to);
        // Streamed: bounded memory on any log length.
        const recs = log.read({ gte: o.from, ...(o.to ? { lte: o.to } : {}), ...(o.from <= 1 ? { prevHash: '' } : {}) });
        if (o.json) await streamJsonArray(recs);
        else await streamTable(rowsOf(recs), LOG_HEADER);
      }, { scan: true }); // the whole log: a view LevelDB will not compact (store/read-only.ts makeFullView)
    });
}
