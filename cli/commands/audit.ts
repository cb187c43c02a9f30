// `blockgraph audit` (who did what, when) and `blockgraph tail` (follow a store live).
import type { Command } from 'commander';
import { take, type Observable, type Subscription } from 'rxjs';
import { BlockgraphError } from '../../errors/index.js';
import { argsText, auditFilter, AuditStream, isoBound, outcomeText, type AuditFilter, type AuditRow } from '../../replay/audit.js';
import type { LogRecord } from '../../store/index.js';
import type { EventLog } from '../../store/index.js';
import { DEFAULT_DB, withLog } from '../context.js';
import { streamJsonArray, streamTable } from '../stream-out.js';
import { connectLogSocket } from '../log-socket.js';
import { summary } from './log.js';

function parseFilter(o: Record<string, string | undefined>): AuditFilter {
  const bound = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const iso = isoBound(v);
    if (!iso) throw new BlockgraphError('BG_BAD_INPUT', `--${name}: not a time: ${v}`);
    return iso;
  };
  return {
    node: o.node, proc: o.proc, txn: o.txn,
    types: o.type ? o.type.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    since: bound('since', o.since), until: bound('until', o.until),
  };
}

/** Audit rows of the whole log as they become final: bounded memory on any log length. */
async function* auditStream(log: EventLog, filter: AuditFilter): AsyncGenerator<AuditRow, void, undefined> {
  const a = new AuditStream();
  const keep = auditFilter(filter);
  for await (const chunk of log.readChunks({ prevHash: '' })) {
    for (const rec of chunk) for (const r of a.push(rec)) if (keep(r)) yield r;
  }
  for (const r of a.end()) if (keep(r)) yield r;
}

async function* mapRows<T>(src: AsyncIterable<T>, f: (t: T) => string[]): AsyncGenerator<string[], void, undefined> {
  for await (const t of src) yield f(t);
}

export function registerAudit(program: Command): void {
  program.command('audit')
    .description('who did what, when: one row per transaction, refused command and recovery action')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--node <name>', 'only transactions whose steps touched this node (the node or an edge to/from it)')
    .option('--type <types>', 'record types or row kinds, comma-separated (txn.compensated, command.rejected, transaction, rejected, recovery)')
    .option('--txn <id>', 'one transaction (and its recovery)')
    .option('--since <time>', 'rows at or after this ISO time')
    .option('--until <time>', 'rows at or before this ISO time')
    .option('--proc <name>', 'one QEMU process')
    .option('--json', 'the rows as JSON')
    .action(async (o) => {
      const filter = parseFilter(o);
      await withLog(o.db, async (log) => {
        const rows = auditStream(log, filter);
        if (o.json) return void await streamJsonArray(rows);
        await streamTable(mapRows(rows, (r) => [
          String(r.seq), r.at.replace('T', ' ').slice(0, 23), r.proc, r.txn ?? '', r.kind,
          `${r.command} ${argsText(r.args, 60)}`.trim(), outcomeText(r),
          r.touched.length > 3 ? `${r.touched.slice(0, 3).join(', ')} +${r.touched.length - 3}` : r.touched.join(', '),
        ]), ['seq', 'time', 'proc', 'txn', 'kind', 'command', 'outcome', 'touched']);
      });
    });

  program.command('tail')
    .description('print log records from --from on, then follow new ones live (a store nobody holds via --db, or one served by `blockgraph qmp --log-socket PATH` via --connect PATH)')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--connect <path>', "a log socket of a running `blockgraph qmp --log-socket PATH`")
    .option('--from <seq>', 'first seq', '1')
    .option('--limit <n>', 'stop after n records')
    .option('--no-follow', 'stop at the head instead of waiting for new records (--db only)')
    .option('--json', 'one JSON record per line')
    .action(async (o) => {
      const from = Number(o.from);
      if (!Number.isInteger(from) || from < 1) throw new BlockgraphError('BG_BAD_INPUT', `--from: not a seq: ${o.from}`);
      const limit = o.limit === undefined ? Infinity : Number(o.limit);
      if (!(limit > 0)) throw new BlockgraphError('BG_BAD_INPUT', `--limit: not a count: ${o.limit}`);
      const line = (r: LogRecord) => (o.json ? JSON.stringify(r) : [String(r.seq), r.at.slice(11, 23), r.stream, r.type, r.txn ?? '', summary(r)].join('\t'));
      const print = (src: Observable<LogRecord>, stopAt?: () => number) => new Promise<void>((resolve, reject) => {
        let sub: Subscription | undefined;
        let done = false;
        const finish = (e?: unknown) => {
          if (done) return;
          done = true;
          sub?.unsubscribe();
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          if (e) reject(e); else resolve();
        };
        const stop = () => finish();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
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
      if (o.connect) return print(connectLogSocket(o.connect, from));
      await withLog(o.db, async (log) => {
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
