// `blockgraph diff A B` (what changed between two points of the log) and
// `blockgraph history NODE` (every step that touched one node).
import type { Command } from 'commander';
import { nameArg, pointArg, type Point } from '../args.js';
import { DEFAULT_DB, printJson, seeksOf, withReadLog } from '../context.js';
import { resolvePoint } from '../points.js';
import type { HistoryEntry } from '../../replay/history.js';
import { streamJsonArray, streamTable } from '../stream-out.js';

async function* historyRows(h: AsyncIterable<HistoryEntry>, argsText: (a: Record<string, unknown>, n: number) => string): AsyncGenerator<string[], void, undefined> {
  for await (const e of h) {
    for (let i = 0; i < e.changes.length; i++) {
      const c = e.changes[i]!;
      yield i === 0
        ? [String(e.seq), e.at.replace('T', ' ').slice(0, 23), e.proc, e.txn, `${e.command} ${argsText(e.args, 50)}`.trim(), e.step, `${c.entity}: ${c.what.join('; ')}`]
        : ['', '', '', '', '', '', `${c.entity}: ${c.what.join('; ')}`];
    }
  }
}

export function registerDiff(program: Command): void {
  program.command('diff')
    .description('what changed between two points of the log (seq or ISO time): nodes, edges, perms, options, locks, AioContexts, jobs, exports')
    .argument('<a>', 'seq or ISO time', pointArg('A'))
    .argument('<b>', 'seq or ISO time', pointArg('B'))
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--json', 'the differences as JSON')
    .addHelpText('after', `
Examples:
  $ blockgraph diff 10 25
  $ blockgraph diff 2026-01-31T12:00:00Z 2026-01-31T12:05:00Z --json`)
    .action(async (a: Point, b: Point, o) => {
      const [{ replay }, { diffStates, diffText }] = await Promise.all([import('../../replay/replay.js'), import('../../replay/diff.js')]);
      await withReadLog(o.db, async (log) => {
        const sa = await resolvePoint(log, a, 'A');
        const sb = await resolvePoint(log, b, 'B');
        const [fa, fb] = [await replay(log, { upTo: sa }), await replay(log, { upTo: sb })];
        const d = diffStates(fa.state, fb.state);
        if (o.json) return printJson({ from: sa, to: sb, ...d });
        console.log(`seq ${sa} -> seq ${sb}\n${diffText(d)}`);
     }, { seek: seeksOf(a, b) });
    });

  program.command('history')
    .description('every logged step that touched a node (the node or an edge to/from it), with its transaction and command')
    .argument('<node>', 'node name', nameArg('NODE'))
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--proc <name>', 'the QEMU process (default: any)', nameArg('--proc'))
    .option('--json', 'the entries as JSON')
    .addHelpText('after', `
Examples:
  $ blockgraph history base
  $ blockgraph history top --proc B --json`)
    .action(async (node: string, o) => {
      const [{ historyFromLog }, { argsText }] = await Promise.all([import('../../replay/history.js'), import('../../replay/audit.js')]);
      await withReadLog(o.db, async (log) => {
        // Through the log's node index (a range read, not a scan), streamed.
        const h = historyFromLog(log, node, o.proc);
        if (o.json) return void await streamJsonArray(h);
        await streamTable(historyRows(h, argsText), ['seq', 'time', 'proc', 'txn', 'command', 'step', 'change'], `no step touched node ${node}`);
      });
    });
}
