// `blockgraph show`: the graph now or at a point of the log; one node (--node) or its backing
// chain (--chain) as `qemu-img info --backing-chain` shows images.
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import { nameArg, pointArg, type Point } from '../args.js';
import { DEFAULT_DB, printJson, seeksOf, withReadLog } from '../context.js';
import { resolvePoint } from '../points.js';
import { canonicalOrder } from '../../store/sort-keys.js';

export function registerShow(program: Command): void {
  program.command('show')
    .description('print the graph, now or as it was at a seq or time; or one node (--node) or its backing chain (--chain)')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--at <seq|time>', 'a seq number or an ISO time (2026-01-31T12:00:00Z)', pointArg('--at'))
    .option('--node <name>', 'only this node: format, file, size, read-only, AioContext, links, jobs', nameArg('--node'))
    .option('--chain <name>', 'this node and every node below it along its backing (or filtered) chain', nameArg('--chain'))
    .option('--proc <name>', 'the QEMU process of --node/--chain (default: the only one, else A)', nameArg('--proc'))
    .option('--json', 'the state (or the node views) as JSON')
    .addHelpText('after', `
Examples:
  $ blockgraph show --db ./blockgraph.db
  $ blockgraph show --at 2026-01-31T12:00:00Z
  $ blockgraph show --chain top          like qemu-img info --backing-chain, with frozen links, jobs, AioContext
  $ blockgraph show --node base --at 42 --json`)
    .action(async (o: { db: string; at?: Point; node?: string; chain?: string; proc?: string; json?: boolean }) => {
      if (o.node && o.chain) throw new BlockgraphError('BG_BAD_INPUT', '--node and --chain: give one of them');
      const [{ replay }, { stateHash }] = await Promise.all([import('../../replay/replay.js'), import('../../graph/hash.js')]);
      await withReadLog(o.db, async (log) => {
        const upTo = o.at === undefined ? undefined : await resolvePoint(log, o.at, '--at');
        const f = await replay(log, { upTo });
        const one = o.node ?? o.chain;
        if (one) {
          const [{ backingChain, nodeView }, { chainText, nodeText }] = await Promise.all([import('../../replay/chain.js'), import('../render-text.js')]);
          const procs = Object.keys(f.state).filter((s) => s !== '@host');
          const proc = o.proc ?? (procs.length === 1 ? procs[0]! : 'A');
          const views = o.chain ? backingChain(f.state, proc, one) : [nodeView(f.state, proc, one)];
          if (o.json) return printJson({ seq: f.seq, proc, nodes: canonicalOrder(views) });
          console.log(`process ${proc} at seq ${f.seq}${o.chain ? `, backing chain of ${one} (${views.length} node${views.length === 1 ? '' : 's'})` : ''}\n\n${o.chain ? chainText(views) : nodeText(views[0]!)}`);
          return;
        }
        // canonical key order: the same graph is the same bytes whether it was folded from a
        // snapshot or from the records (a damaged newest snapshot makes `show` use an older one)
        if (o.json) return printJson({ seq: f.seq, stateHash: stateHash(f.state), openTransactions: [...f.open.keys()], state: canonicalOrder(f.state) });
        const { renderText } = await import('../render-text.js');
        console.log(`at seq ${f.seq}${f.open.size ? ` (transactions open: ${[...f.open.keys()].join(', ')})` : ''}\n${renderText(f.state, { legend: true })}`);
     }, { seek: seeksOf(o.at) });
    });
}
