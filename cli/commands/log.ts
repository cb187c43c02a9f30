import type { Command } from 'commander';
import type { LogRecord } from '../../store/types.js';
import { DEFAULT_DB, printJson, table, withReadLog } from '../context.js';

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

export function logTable(records: LogRecord[]): string {
  return table(records.map((r) => [String(r.seq), r.at.slice(11, 23), r.stream, r.type, r.txn ?? '', summary(r)]), ['seq', 'time', 'proc', 'type', 'txn', 'what']);
}

export function registerLog(program: Command): void {
  program.command('log')
    .description('print the event log')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--from <seq>', 'first seq', '1')
    .option('--to <seq>', 'last seq')
    .option('--json', 'JSON records')
    .action(async (o) => {
      await withReadLog(o.db, async (log) => {
        const recs = await log.readAll({ gte: Number(o.from), ...(o.to ? { lte: Number(o.to) } : {}) });
        if (o.json) printJson(recs);
        else console.log(logTable(recs));
      });
    });
}
