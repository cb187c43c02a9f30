// `blockgraph diff A B` (what changed between two points of the log) and
// `blockgraph history NODE` (every step that touched one node).
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import { argsText } from '../../replay/audit.js';
import { diffStates, diffText } from '../../replay/diff.js';
import { historyFromLog, type HistoryEntry } from '../../replay/history.js';
import { replay, seqAtTime } from '../../replay/replay.js';
import type { EventLog } from '../../store/index.js';
import { DEFAULT_DB, printJson, withLog } from '../context.js';
import { streamJsonArray, streamTable } from '../stream-out.js';

/** A point of the log given as a seq number or an ISO time (the last record at or before it). */
export async function resolvePoint(log: EventLog, v: string, what = 'point'): Promise<number> {
  if (/^\d+$/.test(v)) {
    const seq = Number(v);
    if (seq > log.head) throw new BlockgraphError('BG_BAD_INPUT', `${what}: seq ${seq} is beyond the head (${log.head})`);
    return seq;
  }
  if (Number.isNaN(Date.parse(v))) throw new BlockgraphError('BG_BAD_INPUT', `${what}: neither a seq nor an ISO time: ${v}`);
  return seqAtTime(log, new Date(Date.parse(v)).toISOString());
}

async function* historyRows(h: AsyncIterable<HistoryEntry>): AsyncGenerator<string[], void, undefined> {
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
    .argument('<a>', 'seq or ISO time')
    .argument('<b>', 'seq or ISO time')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--json', 'the differences as JSON')
    .action(async (a: string, b: string, o) => {
      await withLog(o.db, async (log) => {
        const sa = await resolvePoint(log, a, 'A');
        const sb = await resolvePoint(log, b, 'B');
        const [fa, fb] = [await replay(log, { upTo: sa }), await replay(log, { upTo: sb })];
        const d = diffStates(fa.state, fb.state);
        if (o.json) return printJson({ from: sa, to: sb, ...d });
        console.log(`seq ${sa} -> seq ${sb}\n${diffText(d)}`);
      });
    });

  program.command('history')
    .description('every logged step that touched a node (the node or an edge to/from it), with its transaction and command')
    .argument('<node>', 'node name')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--proc <name>', 'the QEMU process (default: any)')
    .option('--json', 'the entries as JSON')
    .action(async (node: string, o) => {
      await withLog(o.db, async (log) => {
        // Through the log's node index (a range read, not a scan), streamed.
        const h = historyFromLog(log, node, o.proc);
        if (o.json) return void await streamJsonArray(h);
        await streamTable(historyRows(h), ['seq', 'time', 'proc', 'txn', 'command', 'step', 'change'], `no step touched node ${node}`);
      });
    });
}
