// `blockgraph render`: the graph as Graphviz DOT, or SVG laid out by Graphviz compiled to
// WASM (@viz-js/viz: no system graphviz needed).
import type { Command } from 'commander';
import { writeOutputFile } from '../out-file.js';
import { BlockgraphError } from '../../errors/index.js';
import type { State } from '../../graph/types.js';
import { choiceArg, nameArg, outArg, pointArg, type Point } from '../args.js';
import { DEFAULT_DB, printJson, seeksOf, withReadLog } from '../context.js';
import { resolvePoint } from '../points.js';

type Viz = { renderString(src: string, o: { format: string }): string };
let viz: Promise<Viz> | undefined;

/** DOT -> SVG markup (without the XML prolog, ready to inline into HTML). */
export async function dotToSvg(dot: string): Promise<string> {
  viz ??= import('@viz-js/viz').then((m) => m.instance() as Promise<Viz>);
  const svg = (await viz).renderString(dot, { format: 'svg' });
  return svg.slice(svg.indexOf('<svg'));
}

export async function renderState(state: State, format: 'dot' | 'svg', opts: { proc?: string; title?: string; legend?: boolean } = {}): Promise<string> {
  const { renderDot } = await import('../../replay/render-dot.js');
  const dot = renderDot(state, opts);
  return format === 'dot' ? dot : (await dotToSvg(dot)) + '\n';
}

export function registerRender(program: Command): void {
  program.command('render')
    .description('draw the graph (now or at a seq/time) as Graphviz DOT or SVG, with a legend')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--at <seq|time>', 'a seq number or an ISO time', pointArg('--at'))
    .option('--proc <name>', 'only this QEMU process', nameArg('--proc'))
    .option('--format <fmt>', 'dot or svg', choiceArg('--format', ['dot', 'svg'] as const), 'dot')
    .option('--no-legend', 'leave out the key (perm/shared halves, frozen, read-only, shapes)')
    .option('--out <file>', 'write here instead of stdout', outArg())
    .option('--json', 'print {seq, format, text} (or {seq, format, file} with --out)')
    .addHelpText('after', `
Examples:
  $ blockgraph render --format svg --out graph.svg
  $ blockgraph render --at 42 --proc A | dot -Tpng > graph.png`)
    .action(async (o: { db: string; at?: Point; proc?: string; format: 'dot' | 'svg'; legend: boolean; out?: string; json?: boolean }) => {
      const { replay } = await import('../../replay/replay.js');
      await withReadLog(o.db, async (log) => {
        const upTo = o.at === undefined ? log.head : await resolvePoint(log, o.at, '--at');
        const f = await replay(log, { upTo });
        if (o.proc && !f.state[o.proc]) throw new BlockgraphError('BG_NOT_FOUND', `no process ${o.proc} at seq ${f.seq}`);
        const text = await renderState(f.state, o.format, { proc: o.proc, title: `blockgraph at seq ${f.seq}`, legend: o.legend });
        if (o.out) writeOutputFile(o.out, text);
        if (o.json) printJson({ seq: f.seq, format: o.format, ...(o.out ? { file: o.out } : { text }) });
        else if (!o.out) process.stdout.write(text);
     }, { seek: seeksOf(o.at) });
    });
}
