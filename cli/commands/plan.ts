import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BlockgraphError } from '../../errors/index.js';
import { nameArg } from '../args.js';
import { DEFAULT_DB, EXIT, printJson, table, withReadLog } from '../context.js';

export function registerPlan(program: Command): void {
  const plan = program.command('plan').description('show what an operation would do, without doing it');
  plan.command('reopen')
    .description('the ordered reopen queue and steps of a blockdev-reopen (options as JSON: a list, or {"options": [...]})')
    .argument('<options>', 'JSON text, or @FILE')
    .option('--db <dir>', 'LevelDB directory', DEFAULT_DB)
    .option('--proc <name>', 'QEMU process', nameArg('--proc'), 'A')
    .option('--json', 'JSON plan')
    .addHelpText('after', `
Examples:
  $ blockgraph plan reopen '[{"driver":"qcow2","node-name":"top","file":"top.file","read-only":true}]'
  $ blockgraph plan reopen @reopen.json --json`)
    .action(async (text: string, o) => {
      let src = text;
      if (text.startsWith('@')) {
        try { src = readFileSync(text.slice(1), 'utf8'); } catch (e) {
          throw new BlockgraphError('BG_BAD_INPUT', `cannot read ${text.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      }
      let v: unknown;
      try { v = JSON.parse(src); } catch (e) {
        throw new BlockgraphError('BG_BAD_INPUT', `options are not JSON: ${(e as Error).message}`);
      }
      if (v === null || typeof v !== 'object') throw new BlockgraphError('BG_BAD_INPUT', 'expected a list of BlockdevOptions or {"options": [...]}');
      const [{ planReopen }, { replay }] = await Promise.all([import('../../graph/reopen/plan.js'), import('../../replay/replay.js')]);
      const list = Array.isArray(v) ? v : (v as { options?: unknown }).options;
      if (!Array.isArray(list)) throw new BlockgraphError('BG_BAD_INPUT', 'expected a list of BlockdevOptions or {"options": [...]}');
      const p = await withReadLog(o.db, async (log) => planReopen((await replay(log)).state, o.proc, list as Record<string, unknown>[]));
      if (o.json) printJson(p);
      else {
        console.log(`queue (QEMU's order): ${p.queue.join(', ') || '-'}`);
        console.log(table(p.steps.map((s, i) => [String(i + 1), s.step, JSON.stringify({ ...s, step: undefined })]), ['#', 'step', 'detail']));
        console.log(p.ok ? 'verdict: ok' : `verdict: refused: ${p.error!.desc}`);
      }
      process.exitCode = p.ok ? EXIT.ok : EXIT.failed;
    });
}
