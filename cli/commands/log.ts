import type { Command } from 'commander';
import type { LogRecord } from '../../store/types.js';
import { BlockgraphError } from '../../errors/index.js';
import { DEFAULT_DB, table, withLog } from '../context.js';
import { streamJsonArray, streamTable } from '../stream-out.js';

export function summary(r: LogRecord): string {
  const d = r.data as Record<string, any>;
  switch (r.type) {
    case 'txn.begun': return `${d.op} ${JSON.stringify(d.args)}`.slice(0, 100);
    case 'txn.step': return `${d.name} (${d.changes.length} changes)`;
    case 'txn.compensated': return `undo seq ${d.undoes}`;
    case 'txn.decided': return d.outcome + (d.reason ? ` (${d.reason})` : '');
    case 'txn.ended': return d.recovered ? `recovered: ${d.recovered}` : '';
    case 'command.rejected': return `${d.command ?? 'input'}: ${d.error?.desc ?? ''}`.slice(0, 100);
    default: return '';
  }
}

const LOG_HEADER = ['seq', 'time', 'proc', 'type', 'txn', 'what'];
const logRow = (r: LogRecord): string[] => [String(r.seq), r.at.slice(11, 23), r.stream, r.type, r.txn ?? '', summary(r)];

export function logTable(records: LogRecord[]): string {
  return table(records.map(logRow), LOG_HEADER);
}

async function* rowsOf(src: AsyncIterable<LogRecord>): AsyncGenerator<string[], void, undefined> {
  for await (const r of src) yield logRow(r);
}

function seqOption(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new BlockgraphError('BG_BAD_INPUT', `--${name}: not a seq: ${v}`);
  return n;
}

export function registerLog(program: Command): void {
  program.command('log')
    .description('print the event log')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--from <seq>', 'first seq', '1')
    .option('--to <seq>', 'last seq')
    .option('--json', 'JSON records')
    .action(async (o) => {
      const from = seqOption('from', o.from);
      const to = o.to === undefined ? undefined : seqOption('to', o.to);
      await withLog(o.db, async (log) => {
        // Streamed: bounded memory on any log length.
        const recs = log.read({ gte: from, ...(to !== undefined ? { lte: to } : {}), ...(from <= 1 ? { prevHash: '' } : {}) });
        if (o.json) await streamJsonArray(recs);
        else await streamTable(rowsOf(recs), LOG_HEADER);
      });
    });
}
