// `blockgraph audit` (who did what, when) and `blockgraph tail` (follow a store live).
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import { CURRENT_VERSION } from '../../events/types.js';
import type { AuditFilter } from '../../replay/audit.js';
import type { LogRecord } from '../../store/index.js';
import { countArg, listArg, nameArg, seqArg, timeArg } from '../args.js';
import { DEFAULT_DB, withReadLog } from '../context.js';
import { fixedRow } from '../fit.js';
import { onStdoutClosed } from '../stdout.js';
import { ignoreBlockedSignals, onStopSignal } from '../stop-signals.js';
import { LOG_HEADER, logCells } from './log.js';

/** What --type accepts: the record types audit rows are made of, and the row kinds. */
export const AUDIT_TYPES = [...Object.keys(CURRENT_VERSION), 'transaction', 'rejected', 'recovery'];

/** `audit` fits this many columns unless --wide. */
export const AUDIT_WIDTH = 120;

export function registerAudit(program: Command): void {
  program.command('audit')
    .description('who did what, when: one row per transaction, refused command and recovery action')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--node <name>', 'only transactions whose steps touched this node (the node or an edge to/from it)', nameArg('--node'))
    .option('--type <types>', `record types or row kinds, comma-separated (${AUDIT_TYPES.join(', ')})`, listArg('--type', AUDIT_TYPES))
    .option('--txn <id>', 'one transaction (and its recovery)', nameArg('--txn'))
    .option('--since <time>', 'rows at or after this ISO time', timeArg('--since'))
    .option('--until <time>', 'rows at or before this ISO time', timeArg('--until'))
    .option('--proc <name>', 'one QEMU process', nameArg('--proc'))
    .option('--wide', `do not cut the table to ${AUDIT_WIDTH} columns`)
    .option('--json', 'the rows as JSON')
    .addHelpText('after', `
Examples:
  $ blockgraph audit --node base
  $ blockgraph audit --type rejected,recovery --since 2026-01-31T00:00:00Z
  $ blockgraph audit --txn t12 --wide`)
    .action(async (o) => {
      const filter: AuditFilter = { node: o.node, proc: o.proc, txn: o.txn, types: o.type, since: o.since, until: o.until };
      if (o.fleet && !o.host) return (await import('./fleet-audit.js')).fleetAudit(o.fleet, filter, o.json === true);
      const { argsText, auditStream, outcomeText } = await import('../../replay/audit.js');
      const { streamFitTable, streamJsonArray } = await import('../stream-out.js');
      await withReadLog(o.db, async (log) => {
        // Streamed in seq order as rows complete: memory holds the open transactions and one
        // output page, never the log or every row (replay/audit.ts auditStream).
        const rows = auditStream(log.readChunks({}), filter);
        if (o.json) return void (await streamJsonArray(rows));
        const cells = async function* () {
          for await (const r of rows) {
            yield [
              String(r.seq), r.at.replace('T', ' ').slice(0, 23), r.proc, r.txn ?? '', r.kind,
              `${r.command} ${argsText(r.args, o.wide ? 200 : 60)}`.trim(), outcomeText(r),
              r.touched.length > 3 ? `${r.touched.slice(0, 3).join(', ')} +${r.touched.length - 3}` : r.touched.join(', '),
            ];
          }
        };
        await streamFitTable(cells(), ['seq', 'time', 'proc', 'txn', 'kind', 'command', 'outcome', 'touched'], { width: o.wide ? undefined : AUDIT_WIDTH, flexible: [5, 6, 7] });
      }, { scan: true }); // the whole log: a view LevelDB will not compact (store/read-only.ts makeFullView)
    });

  program.command('tail')
    .description('print log records from --from on, then follow new ones live (a store nobody holds via --db, or one served by `blockgraph qmp --log-socket PATH` via --connect PATH)')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--connect <path>', "a log socket of a running `blockgraph qmp --log-socket PATH`")
    .option('--from <seq>', 'first seq', seqArg('--from'), 1)
    .option('--limit <n>', 'stop after n records', countArg('--limit'))
    .option('--no-follow', 'stop at the head instead of waiting for new records (--db only)')
    .option('--json', 'one JSON record per line')
    .addHelpText('after', `
Examples:
  $ blockgraph tail --from 100 --no-follow
  $ blockgraph qmp --socket /tmp/bg.sock --log-socket /tmp/bg.log &  blockgraph tail --connect /tmp/bg.log`)
    .action(async (o: { db: string; connect?: string; from: number; limit?: number; follow: boolean; json?: boolean }) => {
      const { take } = await import('rxjs');
      type Obs = import('rxjs').Observable<LogRecord>;
      const from = o.from;
      const limit = o.limit ?? Infinity;
      // The same columns as `blockgraph log`, at fixed widths (a stream cannot measure its rows first).
      const widths = [7, 12, 5, 16, 7];
      // The header only once the range is known to be good: a refused --from prints nothing on stdout.
      const header = () => { if (!o.json) console.log(fixedRow(LOG_HEADER, widths)); };
      const line = (r: LogRecord) => (o.json ? JSON.stringify(r) : fixedRow(logCells(r), widths));
      const print = (src: Obs, stopAt?: () => number) => new Promise<void>((resolve, reject) => {
        let sub: import('rxjs').Subscription | undefined;
        let done = false;
        const finish = (e?: unknown) => {
          if (done) return;
          done = true;
          sub?.unsubscribe();
          offSignals();
          offBlocked();
          offClosed();
          if (e) reject(e); else resolve();
        };
        const stop = () => finish();
        // SIGINT, SIGTERM or SIGHUP (a closed terminal): stop following (cli/stop-signals.ts)
        const offSignals = onStopSignal(stop);
        // SIGUSR1 (Node's inspector), SIGALRM, SIGIO: a follower runs on, as QEMU's tools do
        const offBlocked = ignoreBlockedSignals();
        // Nobody reads any more (`tail | head`): stop following.
        const offClosed = onStdoutClosed(stop);
        sub = (Number.isFinite(limit) ? src.pipe(take(limit)) : src).subscribe({
          next: (r) => {
            process.stdout.write(line(r) + '\n');
            if (stopAt && r.seq >= stopAt()) finish();
          },
          error: finish,
          complete: stop,
        });
        if (done) sub.unsubscribe();
        if (stopAt && stopAt() < from) finish();
      });
      if (o.connect) {
        const { connectLogSocket } = await import('../log-socket.js');
        // Records are contiguous: as with --db, a --from past the next seq to be written can never come.
        return print(connectLogSocket(o.connect, from, (head) => {
          if (from > head + 1) return new BlockgraphError('BG_BAD_INPUT', `--from ${from} is beyond the head (${head}); the next record will be seq ${head + 1}`);
          header();
          return undefined;
        }));
      }
      await withReadLog(o.db, async (log) => {
        // Records are contiguous: a --from past the next seq to be written can never come.
        if (!o.follow && from > Math.max(log.head, 1)) throw new BlockgraphError('BG_BAD_INPUT', `--from ${from} is beyond the head (${log.head})`);
        if (o.follow && from > log.head + 1) throw new BlockgraphError('BG_BAD_INPUT', `--from ${from} is beyond the head (${log.head}); the next record will be seq ${log.head + 1}`);
        header();
        // This process holds the store: new records can only come from this process (tests,
        // embedding). Without --no-follow it waits for them, as `tail -f` does.
        await print(log.tail(from), o.follow ? undefined : () => log.head);
      }).catch((e: unknown) => {
        if (e instanceof BlockgraphError && e.code === 'BG_LOG_LOCKED') {
          throw new BlockgraphError('BG_LOG_LOCKED', `${e.message}: follow it through the process that holds it (blockgraph qmp --log-socket PATH, then blockgraph tail --connect PATH)`, e.info);
        }
        throw e;
      });
    });
}
